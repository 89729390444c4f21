//! The analysis prompt (see docs/ai-pipeline.md): one line with an instruction, then
//! `Error: <name> - <message>`, `Context: <context>` and `Stack: <first 20 stack lines>`.
//! Every interpolated part is cleaned: `<` and `>` removed, CR/LF turned into spaces, other
//! control characters dropped, and the part trimmed. Parts are bounded so a huge message or
//! context cannot produce a huge (and costly) request.

const INSTRUCTION: &str = "You are a senior Node.js engineer. Analyze the error below and reply with only a JSON object with the fields \"advice\" (a specific, actionable fix in one or two sentences), \"cause\" (the most likely root cause) and \"steps\" (an array of short concrete steps).";

const MAX_MESSAGE_CHARS: usize = 2000;
const MAX_CONTEXT_CHARS: usize = 2000;
const MAX_STACK_LINES: usize = 20;
const MAX_STACK_CHARS: usize = 4000;

/// Builds the prompt from already redacted parts.
pub fn build_prompt(name: &str, message: &str, context: &str, stack: &str) -> String {
    let stack_lines: Vec<&str> = stack.lines().take(MAX_STACK_LINES).collect();
    let mut out = String::with_capacity(INSTRUCTION.len() + message.len() + stack.len() + 64);
    out.push_str(INSTRUCTION);
    out.push_str(" Error: ");
    push_clean(&mut out, name, 200);
    out.push_str(" - ");
    push_clean(&mut out, message, MAX_MESSAGE_CHARS);
    out.push_str(" Context: ");
    push_clean(&mut out, context, MAX_CONTEXT_CHARS);
    out.push_str(" Stack: ");
    push_clean(&mut out, &stack_lines.join("\n"), MAX_STACK_CHARS);
    out
}

/// Appends `part` cleaned and trimmed, at most `max_chars` characters of it.
fn push_clean(out: &mut String, part: &str, max_chars: usize) {
    let start = out.len();
    let mut last_space = true;
    for c in part.chars().take(max_chars) {
        let c = match c {
            '<' | '>' => continue,
            '\r' | '\n' | '\t' => ' ',
            c if c.is_control() => continue,
            c => c,
        };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
    }
    while out.len() > start && out.ends_with(' ') {
        out.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_is_one_clean_line() {
        let p = build_prompt(
            "TypeError",
            "  bad <script>\r\nvalue\u{0007}  ",
            "{\"route\":\"/users\"}",
            "TypeError: bad\n    at f (a.js:1:1)\n    at g (b.js:2:2)",
        );
        assert!(!p.contains('\n') && !p.contains('\r') && !p.contains('<') && !p.contains('>'));
        assert!(p.starts_with(INSTRUCTION));
        assert!(p.ends_with(
            " Error: TypeError - bad script value Context: {\"route\":\"/users\"} Stack: TypeError: bad at f (a.js:1:1) at g (b.js:2:2)"
        ));
    }

    #[test]
    fn parts_are_bounded() {
        let stack = (0..100)
            .map(|i| format!("    at f{i} (x.js:{i}:1)"))
            .collect::<Vec<_>>()
            .join("\n");
        let p = build_prompt("Error", &"m".repeat(10_000), &"c".repeat(10_000), &stack);
        assert!(p.contains("at f19 "));
        assert!(!p.contains("at f20 "));
        assert!(p.len() < INSTRUCTION.len() + MAX_MESSAGE_CHARS + MAX_CONTEXT_CHARS + 1200);
    }

    #[test]
    fn empty_parts() {
        let p = build_prompt("", "", "", "");
        assert!(p.ends_with(" Error:  -  Context:  Stack: "), "{p}");
    }
}

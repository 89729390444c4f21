//! RFC 6901 JSON pointers and the byte spans of the values they name.

use super::*;

/// A parsed RFC 6901 JSON pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pointer {
    tokens: Vec<String>,
    /// The array index each token denotes, when it is one ("0" or no leading zero).
    indices: Vec<Option<usize>>,
}

impl Pointer {
    /// Parses `""` (the whole document) or `/token/...` with `~0` = `~` and `~1` = `/`.
    pub fn parse(text: &str) -> Result<Pointer, JsonError> {
        if text.is_empty() {
            return Ok(Pointer {
                tokens: Vec::new(),
                indices: Vec::new(),
            });
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err(JsonError::unpositioned(
                ErrorKind::Pointer,
                format!("JSON pointer {text:?} must be empty or start with '/'"),
            ));
        };
        let mut tokens = Vec::new();
        for raw in rest.split('/') {
            let mut token = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c != '~' {
                    token.push(c);
                    continue;
                }
                match chars.next() {
                    Some('0') => token.push('~'),
                    Some('1') => token.push('/'),
                    _ => {
                        return Err(JsonError::unpositioned(
                            ErrorKind::Pointer,
                            format!("JSON pointer {text:?} has '~' not followed by '0' or '1'"),
                        ))
                    }
                }
            }
            tokens.push(token);
        }
        let indices = tokens
            .iter()
            .map(|t| {
                let canonical = t == "0" || (!t.starts_with('0') && !t.is_empty());
                if canonical && t.bytes().all(|c| c.is_ascii_digit()) {
                    t.parse::<usize>().ok()
                } else {
                    None
                }
            })
            .collect();
        Ok(Pointer { tokens, indices })
    }

    /// The unescaped reference tokens.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }
}

#[derive(Clone, Copy)]
pub(super) enum Seg {
    Key(usize, usize, bool),
    Index(usize),
    None,
}

/// Finds the spans of the values pointers refer to, with `JSON.parse` semantics for
/// duplicate keys (the last occurrence wins).
pub(super) struct PointerTracker<'a> {
    input: &'a [u8],
    pointers: &'a [Pointer],
    /// How many leading tokens of each pointer the current path matches.
    matched: Vec<usize>,
    open: Vec<Option<usize>>,
    pub(super) found: Vec<Option<(usize, usize)>>,
    seg: Seg,
}

impl<'a> PointerTracker<'a> {
    pub(super) fn new(input: &'a [u8], pointers: &'a [Pointer]) -> Self {
        PointerTracker {
            input,
            pointers,
            matched: vec![0; pointers.len()],
            open: vec![None; pointers.len()],
            found: vec![None; pointers.len()],
            seg: Seg::None,
        }
    }

    fn seg_matches(&self, p: usize, depth: usize) -> bool {
        let ptr = &self.pointers[p];
        match self.seg {
            Seg::Index(i) => ptr.indices[depth - 1] == Some(i),
            Seg::Key(start, end, escaped) => {
                let token = &ptr.tokens[depth - 1];
                let raw = &self.input[start..end];
                if !escaped {
                    return raw == token.as_bytes();
                }
                std::str::from_utf8(raw).is_ok_and(|body| decode_string(body, true) == *token)
            }
            Seg::None => false,
        }
    }
}

impl Visitor for PointerTracker<'_> {
    fn key(&mut self, start: usize, end: usize, escaped: bool) {
        self.seg = Seg::Key(start, end, escaped);
    }

    fn index(&mut self, index: usize) {
        self.seg = Seg::Index(index);
    }

    fn value_start(&mut self, pos: usize, depth: usize) {
        for p in 0..self.pointers.len() {
            let len = self.pointers[p].tokens.len();
            let m = if depth == 0 {
                0
            } else if self.matched[p] >= depth - 1 && len >= depth && self.seg_matches(p, depth) {
                depth
            } else {
                self.matched[p].min(depth - 1)
            };
            self.matched[p] = m;
            if m == depth && depth <= len {
                // A later duplicate key replaces whatever an earlier one held.
                self.found[p] = None;
                if depth == len {
                    self.open[p] = Some(pos);
                }
            }
        }
    }

    fn value_end(&mut self, end: usize, depth: usize) {
        for p in 0..self.pointers.len() {
            if self.pointers[p].tokens.len() == depth {
                if let Some(start) = self.open[p].take() {
                    self.found[p] = Some((start, end));
                }
            }
        }
    }
}

/// Validates `input` and returns, for every pointer, the byte span of the value it
/// refers to (`None` when the document has no such value).
pub fn find_spans(
    input: &[u8],
    pointers: &[Pointer],
    limits: &Limits,
) -> Result<Vec<Option<(usize, usize)>>, JsonError> {
    let mut t = PointerTracker::new(input, pointers);
    scan(input, limits, &mut t)?;
    Ok(t.found)
}

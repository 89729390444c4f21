//! Request bodies and response parsing for the two provider families.
//!
//! OpenAI-compatible: `POST <url>` (`…/chat/completions`) with `Authorization: Bearer <key>`;
//! the answer is `choices[0].message.content`. Gemini: `POST <url>` (`…/models/<model>:generateContent`)
//! with `x-goog-api-key: <key>`; the answer is the text of `candidates[0].content.parts`.
//! The model's text is then trimmed, a surrounding ```` ```json ```` fence removed, and parsed;
//! only a JSON object is accepted as advice (docs/ai-pipeline.md).

use serde_json::{json, Map, Value};

use super::config::{AiConfig, Provider};
use crate::core::json;

/// All parts of a Gemini answer; their texts are joined.
const GEMINI_PARTS: &str = "/candidates/0/content/parts";

/// An HTTP request ready to send.
#[derive(Debug, Clone)]
pub struct ProviderRequest {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// Why a provider response gave no advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The response body is not the provider's JSON envelope.
    Envelope(String),
    /// The envelope holds no answer text (no choices or candidates, or a refusal).
    NoContent,
    /// The answer is not JSON.
    NotJson(String),
    /// The answer is JSON but not an object.
    NotObject,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Envelope(e) => write!(f, "provider response is not valid JSON: {e}"),
            ParseError::NoContent => f.write_str("provider response holds no answer"),
            ParseError::NotJson(e) => write!(f, "model answer is not JSON: {e}"),
            ParseError::NotObject => f.write_str("model answer is not a JSON object"),
        }
    }
}

const SAFETY_CATEGORIES: [&str; 4] = [
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
];

/// The request for `prompt` to the configured provider. `None` for the offline provider.
pub fn build_request(cfg: &AiConfig, prompt: &str) -> Option<ProviderRequest> {
    let (headers, body) = match cfg.provider {
        Provider::Offline => return None,
        Provider::OpenAi => {
            // OpenAI itself wants `max_completion_tokens` (`max_tokens` is deprecated there);
            // OpenAI-compatible servers (vLLM, Ollama, llama.cpp, proxies) widely know only
            // `max_tokens`.
            let tokens_field = if cfg.url.contains("://api.openai.com/") {
                "max_completion_tokens"
            } else {
                "max_tokens"
            };
            let mut body = json!({
                "model": cfg.model,
                "messages": [{ "role": "user", "content": prompt }],
                "temperature": 1,
                "top_p": 1,
            });
            body[tokens_field] = json!(cfg.max_tokens);
            if cfg.json_mode {
                body["response_format"] = json!({ "type": "json_object" });
            }
            (
                vec![("authorization", format!("Bearer {}", cfg.api_key))],
                body,
            )
        }
        Provider::Gemini => {
            let safety: Vec<Value> = SAFETY_CATEGORIES
                .iter()
                .map(|c| json!({ "category": c, "threshold": "BLOCK_MEDIUM_AND_ABOVE" }))
                .collect();
            let body = json!({
                "contents": [{ "role": "user", "parts": [{ "text": prompt }] }],
                "generationConfig": {
                    "temperature": 1,
                    "topP": 1,
                    "maxOutputTokens": cfg.max_tokens,
                    "responseMimeType": "application/json",
                },
                "safetySettings": safety,
            });
            (vec![("x-goog-api-key", cfg.api_key.clone())], body)
        }
    };
    let mut headers = headers;
    headers.push(("content-type", "application/json".to_owned()));
    Some(ProviderRequest {
        url: cfg.url.clone(),
        headers,
        body: serde_json::to_vec(&body).unwrap_or_default(),
    })
}

/// The model's answer text inside a provider response body, found by the native JSON
/// scanner without building the rest of the document (a response can be megabytes of
/// metadata around a few KB of answer).
pub fn extract_content(provider: Provider, body: &[u8]) -> Result<String, ParseError> {
    let limits = json::Limits {
        max_bytes: body.len().max(1),
        max_depth: json::DEFAULT_MAX_DEPTH,
    };
    let envelope = |e: json::JsonError| ParseError::Envelope(e.to_string());
    match provider {
        Provider::OpenAi => json::extract_str(body, json::OPENAI_CONTENT, &limits)
            .map_err(envelope)?
            .ok_or(ParseError::NoContent),
        Provider::Gemini => {
            let parts = json::extract_value(body, GEMINI_PARTS, &limits).map_err(envelope)?;
            let text: String = parts
                .as_ref()
                .and_then(Value::as_array)
                .ok_or(ParseError::NoContent)?
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            if text.is_empty() {
                Err(ParseError::NoContent)
            } else {
                Ok(text)
            }
        }
        Provider::Offline => Err(ParseError::NoContent),
    }
}

/// Parses the model's answer: trim, strip a surrounding code fence, parse, accept objects.
pub fn parse_advice(content: &str) -> Result<Map<String, Value>, ParseError> {
    let text = strip_fence(content.trim());
    match json::parse(text.as_bytes(), &json::Limits::default()) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ParseError::NotObject),
        Err(e) => Err(ParseError::NotJson(e.to_string())),
    }
}

/// ```` ```json\n…\n``` ```` or ```` ```\n…\n``` ```` → the inside; anything else unchanged.
fn strip_fence(s: &str) -> &str {
    let Some(rest) = s.strip_prefix("```") else {
        return s;
    };
    let Some(inner) = rest.strip_suffix("```") else {
        return s;
    };
    // The info string (`json`, `JSON`, …) runs to the end of the first line.
    let inner = match inner.find('\n') {
        Some(nl)
            if inner[..nl]
                .trim()
                .chars()
                .all(|c| c.is_ascii_alphanumeric()) =>
        {
            &inner[nl + 1..]
        }
        _ => inner,
    };
    inner.trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(provider: Provider) -> AiConfig {
        AiConfig {
            provider,
            api_key: "k-123".into(),
            url: "http://127.0.0.1:1/x".into(),
            model: "m".into(),
            max_tokens: 77,
            json_mode: true,
            ..AiConfig::default()
        }
    }

    #[test]
    fn openai_request_body() {
        let r = build_request(&cfg(Provider::OpenAi), "hi \"there\"").expect("request");
        let v: Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(v["model"], "m");
        assert_eq!(v["messages"][0]["content"], "hi \"there\"");
        assert_eq!(v["max_tokens"], 77);
        assert!(v.get("max_completion_tokens").is_none());
        assert_eq!(v["response_format"]["type"], "json_object");
        let official = AiConfig {
            url: "https://api.openai.com/v1/chat/completions".into(),
            ..cfg(Provider::OpenAi)
        };
        let r = build_request(&official, "hi").expect("request");
        let v: Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(v["max_completion_tokens"], 77);
        assert!(v.get("max_tokens").is_none());
        assert!(r
            .headers
            .contains(&("authorization", "Bearer k-123".to_owned())));
    }

    #[test]
    fn gemini_request_body() {
        let r = build_request(&cfg(Provider::Gemini), "hi").expect("request");
        let v: Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(v["contents"][0]["parts"][0]["text"], "hi");
        assert_eq!(v["generationConfig"]["maxOutputTokens"], 77);
        assert_eq!(v["safetySettings"].as_array().map(Vec::len), Some(4));
        assert!(r.headers.contains(&("x-goog-api-key", "k-123".to_owned())));
        assert!(build_request(&cfg(Provider::Offline), "hi").is_none());
    }

    #[test]
    fn extracts_answers() {
        let oa =
            br#"{"choices":[{"message":{"role":"assistant","content":"{\"advice\":\"a\"}"}}]}"#;
        assert_eq!(
            extract_content(Provider::OpenAi, oa).as_deref(),
            Ok("{\"advice\":\"a\"}")
        );
        let gm =
            br#"{"candidates":[{"content":{"parts":[{"text":"{\"adv"},{"text":"ice\":1}"}]}}]}"#;
        assert_eq!(
            extract_content(Provider::Gemini, gm).as_deref(),
            Ok("{\"advice\":1}")
        );
        assert_eq!(
            extract_content(Provider::OpenAi, br#"{"id":"x"}"#),
            Err(ParseError::NoContent)
        );
        assert_eq!(
            extract_content(
                Provider::OpenAi,
                br#"{"choices":[{"message":{"content":null}}]}"#
            ),
            Err(ParseError::NoContent)
        );
        assert!(matches!(
            extract_content(Provider::OpenAi, b"<html>"),
            Err(ParseError::Envelope(_))
        ));
    }

    #[test]
    fn parses_fenced_plain_and_rejects_others() {
        let plain = parse_advice("  {\"advice\":\"x\"}\n").expect("plain");
        assert_eq!(plain["advice"], "x");
        let fenced = parse_advice("```json\n{\"advice\":\"y\"}\n```").expect("fenced");
        assert_eq!(fenced["advice"], "y");
        let bare = parse_advice("```\n{\"advice\":\"z\"}\n```").expect("bare fence");
        assert_eq!(bare["advice"], "z");
        assert_eq!(parse_advice("[1,2]"), Err(ParseError::NotObject));
        assert_eq!(parse_advice("\"s\""), Err(ParseError::NotObject));
        assert!(matches!(
            parse_advice("Sure! Here is advice."),
            Err(ParseError::NotJson(_))
        ));
    }
}

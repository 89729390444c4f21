//! Handing JSON to JS: big strings pre-decoded, big arrays cut into chunks.

use super::*;

/// One step of a path from a parsed value down to a patched string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    Key(JsText),
    Index(usize),
}

/// What a patch puts back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatchValue {
    /// A big string, decoded.
    String(JsText),
    /// A big array as JSON texts of consecutive slices of its elements (each one an
    /// array itself): the array is their concatenation.
    Chunks(Vec<JsText>),
}

/// A big value cut out of the JSON text: after `JSON.parse` of the skeleton, the value
/// at `path` is the string `sentinel` and must be replaced by `value`. When it is not
/// the sentinel (a later duplicate key replaced it), the patch is skipped: exactly what
/// `JSON.parse` of the original text would have kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    pub path: Vec<PathSeg>,
    pub sentinel: String,
    pub value: PatchValue,
}

/// A JSON value ready for the JS side: either a string already decoded, or JSON text for
/// `JSON.parse` (floats, key order and duplicate keys then behave exactly as there) with
/// its big strings cut out into patches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prepared {
    String(JsText),
    Json { text: JsText, patches: Vec<Patch> },
}

/// A value [`prepare`] cuts out of the text.
enum Cut {
    String { escaped: bool },
    Array { chunks: Vec<(usize, usize)> },
}

/// An open container while [`BigStrings`] scans.
struct OpenContainer {
    is_array: bool,
    start: usize,
    /// A big string or a chunked array lies inside: not chunked itself.
    holds_cut: bool,
    /// Start of the chunk being filled (arrays).
    chunk_start: Option<usize>,
    last_end: usize,
    chunks: Vec<(usize, usize)>,
}

struct BigStrings<'a> {
    text: &'a str,
    segs: Vec<Seg>,
    frames: Vec<OpenContainer>,
    pending_start: usize,
    closing: Option<OpenContainer>,
    found: Vec<(usize, usize, Cut, Vec<Seg>)>,
}

impl BigStrings<'_> {
    fn open(&mut self, is_array: bool) {
        self.segs.push(Seg::None);
        self.frames.push(OpenContainer {
            is_array,
            start: self.pending_start,
            holds_cut: false,
            chunk_start: None,
            last_end: 0,
            chunks: Vec::new(),
        });
    }

    fn close(&mut self) {
        self.segs.pop();
        self.closing = self.frames.pop();
    }

    fn mark_parent(&mut self) {
        if let Some(parent) = self.frames.last_mut() {
            parent.holds_cut = true;
        }
    }
}

impl Visitor for BigStrings<'_> {
    // Every value starts and ends inside the innermost open container (`frames` is
    // pushed by begin_* after value_start and popped by end_* before value_end).
    fn value_start(&mut self, pos: usize, _depth: usize) {
        self.pending_start = pos;
        if let Some(f) = self.frames.last_mut() {
            if f.is_array && f.chunk_start.is_none() {
                f.chunk_start = Some(pos);
            }
        }
    }
    fn value_end(&mut self, end: usize, _depth: usize) {
        if let Some(mut f) = self.closing.take() {
            if let Some(cs) = f.chunk_start {
                f.chunks.push((cs, f.last_end));
            }
            if f.holds_cut {
                self.mark_parent();
            } else if f.is_array && end - f.start >= CHUNKED_ARRAY_BYTES && f.chunks.len() > 1 {
                self.found.push((
                    f.start,
                    end,
                    Cut::Array { chunks: f.chunks },
                    self.segs.clone(),
                ));
                self.mark_parent();
            }
        }
        if let Some(f) = self.frames.last_mut() {
            if f.is_array {
                f.last_end = end;
                if let Some(cs) = f.chunk_start {
                    if end - cs >= CHUNK_BYTES {
                        f.chunks.push((cs, end));
                        f.chunk_start = None;
                    }
                }
            }
        }
    }
    fn begin_object(&mut self) {
        self.open(false);
    }
    fn begin_array(&mut self) {
        self.open(true);
    }
    fn end_object(&mut self) {
        self.close();
    }
    fn end_array(&mut self) {
        self.close();
    }
    fn key(&mut self, start: usize, end: usize, escaped: bool) {
        if let Some(s) = self.segs.last_mut() {
            *s = Seg::Key(start, end, escaped);
        }
    }
    fn index(&mut self, index: usize) {
        if let Some(s) = self.segs.last_mut() {
            *s = Seg::Index(index);
        }
    }
    fn string(&mut self, start: usize, end: usize, escaped: bool) {
        if end - start >= BIG_STRING_BYTES {
            self.found
                .push((start, end, Cut::String { escaped }, self.segs.clone()));
            self.mark_parent();
        }
    }
}

/// Validates one JSON text and turns it into its JS-ready form. `nonce` makes the
/// sentinels unguessable for the data.
pub fn prepare(text: &str, limits: &Limits, nonce: u64) -> Result<Prepared, JsonError> {
    let b = text.as_bytes();
    check_size(b, limits)?;
    let start = skip_ws(b, 0);
    if b.get(start) == Some(&b'"') {
        let (end, escaped) = Scanner { b }.string(start)?;
        if skip_ws(b, end) != b.len() {
            validate(b, limits)?;
        }
        return Ok(Prepared::String(JsText::from_json_body(
            &text[start + 1..end - 1],
            escaped,
        )));
    }
    let mut v = BigStrings {
        text,
        segs: Vec::new(),
        frames: Vec::new(),
        pending_start: 0,
        closing: None,
        found: Vec::new(),
    };
    scan_str(text, limits, &mut v)?;
    if v.found.is_empty() {
        return Ok(Prepared::Json {
            text: JsText::from_text(text),
            patches: Vec::new(),
        });
    }
    let mut skeleton = String::with_capacity(64 * v.found.len() + 1024);
    let mut patches = Vec::with_capacity(v.found.len());
    let mut copied = 0;
    // Cuts never nest (a container holding one is not cut), and each is recorded when
    // it ends, so they come in text order.
    for (n, (start, end, cut, segs)) in v.found.iter().enumerate() {
        let sentinel = format!("@qerrors-{nonce:016x}-{n}");
        skeleton.push_str(&text[copied..*start]);
        skeleton.push('"');
        skeleton.push_str(&sentinel);
        skeleton.push('"');
        copied = *end;
        let path = segs
            .iter()
            .map(|s| match *s {
                Seg::Key(ks, ke, kesc) => {
                    PathSeg::Key(JsText::from_json_body(&v.text[ks..ke], kesc))
                }
                Seg::Index(i) => PathSeg::Index(i),
                Seg::None => PathSeg::Index(0),
            })
            .collect();
        let value = match cut {
            Cut::String { escaped } => {
                PatchValue::String(JsText::from_json_body(&text[start + 1..end - 1], *escaped))
            }
            Cut::Array { chunks } => PatchValue::Chunks(
                chunks
                    .iter()
                    .map(|&(cs, ce)| JsText::from_text(&format!("[{}]", &text[cs..ce])))
                    .collect(),
            ),
        };
        patches.push(Patch {
            path,
            sentinel,
            value,
        });
    }
    skeleton.push_str(&text[copied..]);
    Ok(Prepared::Json {
        text: JsText::from_text(&skeleton),
        patches,
    })
}

/// Validates `input` and prepares the whole document for JS.
pub fn prepare_document(input: &[u8], limits: &Limits, nonce: u64) -> Result<Prepared, JsonError> {
    prepare(checked_text(input, limits)?, limits, nonce)
}

/// Validates `input` and prepares the value of every pointer for JS (`None`: no value).
pub fn prepare_pointers(
    input: &[u8],
    pointers: &[Pointer],
    limits: &Limits,
    nonce: u64,
) -> Result<Vec<Option<Prepared>>, JsonError> {
    let text = checked_text(input, limits)?;
    let mut t = PointerTracker::new(input, pointers);
    scan_str(text, limits, &mut t)?;
    t.found
        .into_iter()
        .map(|span| {
            span.map(|(s, e)| prepare(&text[s..e], limits, nonce))
                .transpose()
        })
        .collect()
}

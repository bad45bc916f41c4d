//! The encoding of every server function's response: JSON, exactly as server_fn's own `Json`
//! writes it (same bytes, same `application/json`), but read in the browser from a `&str`.
//!
//! Why not server_fn's `Json`: it reads responses with `serde_json::from_slice`, while Leptos
//! reads the resources the server serialised into the page with `serde_json::from_str`. Every
//! type the pages receive both ways (the exam entry, the paper, the status) would then be
//! deserialised by two monomorphised copies of its `Deserialize` and of serde_json's parser,
//! one per reader; one reader keeps one copy in the WebAssembly.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON read through serde_json's string reader.
pub struct JsonText;

/// `#[server(output = JsonResponse)]`: a POST whose response is [`JsonText`].
pub type JsonResponse = Post<JsonText>;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(<serde_json::Error as serde::de::Error>::custom)?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use leptos::server_fn::{Bytes, Decodes, Encodes};

    use super::JsonText;

    #[test]
    fn writes_what_server_fns_json_writes_and_reads_it_back() {
        let value = vec![("a".to_owned(), 1u32), ("é".to_owned(), 2)];
        let ours = <JsonText as Encodes<_>>::encode(&value).unwrap();
        let theirs = <leptos::server_fn::codec::JsonEncoding as Encodes<_>>::encode(&value).unwrap();
        assert_eq!(ours, theirs);
        let back: Vec<(String, u32)> = <JsonText as Decodes<_>>::decode(ours).unwrap();
        assert_eq!(back, value);
        assert!(<JsonText as Decodes<Vec<(String, u32)>>>::decode(Bytes::from_static(b"\xff[]")).is_err());
    }
}

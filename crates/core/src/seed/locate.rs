//! Where things are in a seed file: a tree of every node with its line and column, read in a
//! second pass so the seed types themselves stay plain (they are also what `export` writes).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// One step of a field path: a key or an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A field path such as `people[2].memberships[0].userid`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    /// The path one key deeper.
    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }

    /// The path one index deeper.
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// Line, from 1.
    pub line: u64,
    /// Column, from 1.
    pub column: u64,
}

/// A node of the located tree.
#[derive(Debug)]
enum Node {
    Map(Vec<(String, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Leaf,
}

/// Every node of a seed file with its position.
#[derive(Debug)]
pub struct Locator {
    root: Option<Spanned<Node>>,
}

impl Locator {
    /// Reads the positions of `text`; a file that does not parse as YAML yields an empty locator.
    pub fn new(text: &str) -> Self {
        Self {
            root: serde_saphyr::from_str_with_options::<Spanned<Node>>(text, super::yaml_options(text.len())).ok(),
        }
    }

    /// The position of the node at `path`, or of its nearest existing ancestor.
    pub fn find(&self, path: &FieldPath) -> LineCol {
        let Some(mut node) = self.root.as_ref() else {
            return LineCol { line: 1, column: 1 };
        };
        for seg in &path.0 {
            let next = match (&node.value, seg) {
                (Node::Map(entries), Seg::Key(k)) => entries.iter().find(|(key, _)| key == k).map(|(_, v)| v),
                (Node::Seq(items), Seg::Index(i)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        to_linecol(node)
    }

    /// The deepest path whose node starts at or before `at`, for errors that carry only a position.
    pub fn path_at(&self, at: LineCol) -> FieldPath {
        let mut path = FieldPath::default();
        let Some(mut node) = self.root.as_ref() else {
            return path;
        };
        loop {
            let next = match &node.value {
                Node::Map(entries) => entries
                    .iter()
                    .rev()
                    .find(|(_, v)| to_linecol(v) <= at)
                    .map(|(k, v)| (Seg::Key(k.clone()), v)),
                Node::Seq(items) => items
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(_, v)| to_linecol(v) <= at)
                    .map(|(i, v)| (Seg::Index(i), v)),
                Node::Leaf => None,
            };
            match next {
                Some((seg, n)) => {
                    path.0.push(seg);
                    node = n;
                }
                None => return path,
            }
        }
    }
}

fn to_linecol(node: &Spanned<Node>) -> LineCol {
    LineCol {
        line: node.referenced.line(),
        column: node.referenced.column(),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

macro_rules! leaf {
    ($($name:ident: $ty:ty),*) => {
        $(fn $name<E: de::Error>(self, _: $ty) -> Result<Node, E> { Ok(Node::Leaf) })*
    };
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    leaf!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str, visit_bytes: &[u8]);

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(Key(k)) = map.next_key::<Key>()? {
            entries.push((k, map.next_value::<Spanned<Node>>()?));
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping key of any scalar type, as text.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
                Ok(Key("null".to_owned()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "corps:\n  - id: dingabc\n    name: A\npeople:\n  - nick: x\n    memberships:\n      - corp: dingabc\n        userid: u1\n";

    #[test]
    fn finds_nested_fields() {
        let loc = Locator::new(DOC);
        let path = FieldPath::default()
            .key("people")
            .index(0)
            .key("memberships")
            .index(0)
            .key("userid");
        assert_eq!(path.to_string(), "people[0].memberships[0].userid");
        assert_eq!(loc.find(&path).line, 8);
        assert_eq!(
            loc.find(&FieldPath::default().key("corps").index(0).key("name")).line,
            3
        );
        assert_eq!(
            loc.find(&FieldPath::default().key("people").index(0).key("nope")).line,
            5
        );
    }

    #[test]
    fn maps_a_position_back_to_a_path() {
        let loc = Locator::new(DOC);
        let path = loc.path_at(LineCol { line: 8, column: 17 });
        assert_eq!(path.to_string(), "people[0].memberships[0].userid");
    }
}

//! The engine's record of a logged statement: what it says, who said it and when, without
//! the envelope's signature, key and canonical bytes.
//!
//! A record is derived from a decoded statement by [`Record::of`], and only so: on append
//! (the store writes it beside the leaf, in the entries' transaction), on rebuild, and by the
//! audit, which recomputes each from its leaf and compares it with the stored one. The engine
//! reads records or statements alike through [`Said`].

use jiff::Timestamp;

use crate::{Kind, Payload, Statement};

/// What a logged statement says, whichever way it was read: from its leaf (a [`Statement`])
/// or from the store's projection (a [`Record`]).
pub trait Said {
    /// The author's party code.
    fn author(&self) -> &str;
    /// The payload.
    fn payload(&self) -> &Payload;
    /// When the author made it (the author's claim).
    fn time(&self) -> Timestamp;
    /// When the log received it, once logged.
    fn received(&self) -> Option<Timestamp>;
    /// When it counts: the log's receipt time once logged, the author's time before.
    fn at(&self) -> Timestamp {
        self.received().unwrap_or(self.time())
    }
    /// Its kind.
    fn kind(&self) -> Kind {
        self.payload().kind()
    }
}

impl Said for Statement {
    fn author(&self) -> &str {
        &self.author
    }
    fn payload(&self) -> &Payload {
        &self.payload
    }
    fn time(&self) -> Timestamp {
        self.time
    }
    fn received(&self) -> Option<Timestamp> {
        self.received
    }
}

/// A logged statement as the engine reads it. Everything in it is a copy of what the leaf
/// says: [`Record::of`] is the one derivation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The author's party code.
    pub author: String,
    /// When the author made it.
    pub time: Timestamp,
    /// When the log received it.
    pub received: Option<Timestamp>,
    /// What it says.
    pub payload: Payload,
}

impl Record {
    /// The record of a decoded statement.
    pub fn of(st: &Statement) -> Record {
        Record {
            author: st.author.clone(),
            time: st.time,
            received: st.received,
            payload: st.payload.clone(),
        }
    }
}

impl Said for Record {
    fn author(&self) -> &str {
        &self.author
    }
    fn payload(&self) -> &Payload {
        &self.payload
    }
    fn time(&self) -> Timestamp {
        self.time
    }
    fn received(&self) -> Option<Timestamp> {
        self.received
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_says_what_its_statement_says() {
        let w = crate::testkit::world();
        for st in w.genesis() {
            let r = Record::of(&st);
            assert_eq!(r.author(), st.author);
            assert_eq!(r.payload(), &st.payload);
            assert_eq!(Said::at(&r), st.at());
            assert_eq!(Said::kind(&r), st.kind());
        }
    }
}

//! The projection: one typed row per entry (the `records` table), what the engine reads
//! instead of decoding every leaf.
//!
//! **Invariant.** A row is derived only from its entry's leaf, by [`compact_statement::Record::of`]
//! and [`RecordRow::of`]; it is written in the transaction that writes the entry (every
//! append path goes through [`crate::Store::append`] with the rows in the [`crate::Batch`]);
//! and `compact verify` recomputes each row from its leaf and names every row that differs,
//! is missing or is extra. Like the entries' other columns, the projection is an index for
//! speed, never evidence.
//!
//! The three kinds a large log is made of (allocations, delivery reports and confirmations)
//! are stored as typed columns; every other kind keeps its payload as JSON.

use compact_statement::{
    Allocation, DeliveryConfirm, DeliveryReport, Kind, Payload, Record, Statement,
};
use jiff::Timestamp;
use jiff::civil::Date;

/// The projection's name and version, recorded in the store's `meta` as `projection`.
pub const PROJECTION: &str = "records/1";

/// A record as the projection stores it: one row of typed columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRow {
    /// The statement's kind (`delivery.report`, …).
    pub kind: String,
    /// The author's party code.
    pub author: String,
    /// The author's time, in Unix seconds.
    pub time: i64,
    /// The log's receipt time, in Unix seconds.
    pub received: Option<i64>,
    /// The commitment (allocations and delivery reports).
    pub commitment: Option<String>,
    /// The amount as written (allocations, reports; a confirmation's part, if given).
    pub amount: Option<String>,
    /// The statement's date, `YYYY-MM-DD` (allocations, reports, confirmations).
    pub date: Option<String>,
    /// The guarantor's own reference (allocations, reports).
    pub reference: Option<String>,
    /// The entry referred to: a confirmation's report, a report's allocation.
    pub refers: Option<i64>,
    /// Every other kind's payload, as JSON.
    pub payload: Option<String>,
}

/// Why a stored row is not a record.
fn bad(what: impl std::fmt::Display) -> String {
    format!("{what}: run `compact verify`")
}

impl RecordRow {
    /// The row of entry `st`: the one derivation, on append, on rebuild and in the audit.
    pub fn of_statement(st: &Statement) -> RecordRow {
        RecordRow::of(&Record::of(st))
    }

    /// The row of a record.
    pub fn of(r: &Record) -> RecordRow {
        let mut row = RecordRow {
            kind: r.payload.kind().as_str().to_owned(),
            author: r.author.clone(),
            time: r.time.as_second(),
            received: r.received.map(|t| t.as_second()),
            commitment: None,
            amount: None,
            date: None,
            reference: None,
            refers: None,
            payload: None,
        };
        match &r.payload {
            Payload::Allocation(a) => {
                row.commitment = Some(a.commitment.clone());
                row.amount = Some(a.amount.clone());
                row.date = Some(a.date.to_string());
                row.reference = Some(a.reference.clone());
            }
            Payload::DeliveryReport(d) => {
                row.commitment = Some(d.commitment.clone());
                row.amount = Some(d.amount.clone());
                row.date = Some(d.date.to_string());
                row.reference = Some(d.reference.clone());
                row.refers = d.allocation.and_then(|i| i64::try_from(i).ok());
            }
            Payload::DeliveryConfirm(c) => {
                row.amount = c.amount.clone();
                row.date = Some(c.date.to_string());
                row.refers = i64::try_from(c.report).ok();
            }
            other => row.payload = Some(other.to_json().to_string()),
        }
        row
    }

    /// The record this row holds (of entry `index`, for messages).
    pub fn record(&self, index: u64) -> Result<Record, String> {
        self.clone().into_record(index)
    }

    /// The record this row holds, taking its strings.
    pub fn into_record(self, index: u64) -> Result<Record, String> {
        let kind = Kind::parse(&self.kind).ok_or_else(|| {
            bad(format!(
                "projection row {index}: unknown kind `{}`",
                self.kind
            ))
        })?;
        let time = |what: &str, s: i64| {
            Timestamp::from_second(s)
                .map_err(|e| bad(format!("projection row {index}: {what} {s}: {e}")))
        };
        let text = |what: &str, v: Option<String>| {
            v.ok_or_else(|| bad(format!("projection row {index}: no {what}")))
        };
        let date = |d: Option<String>| -> Result<Date, String> {
            let d = text("date", d)?;
            d.parse()
                .map_err(|e| bad(format!("projection row {index}: date `{d}`: {e}")))
        };
        let entry = |v: Option<i64>| -> Result<Option<u64>, String> {
            v.map(|i| {
                u64::try_from(i)
                    .map_err(|_| bad(format!("projection row {index}: entry {i} out of range")))
            })
            .transpose()
        };
        let payload = match kind {
            Kind::Allocation => Payload::Allocation(Allocation {
                commitment: text("commitment", self.commitment)?,
                amount: text("amount", self.amount)?,
                date: date(self.date)?,
                reference: text("reference", self.reference)?,
            }),
            Kind::DeliveryReport => Payload::DeliveryReport(DeliveryReport {
                commitment: text("commitment", self.commitment)?,
                amount: text("amount", self.amount)?,
                date: date(self.date)?,
                reference: text("reference", self.reference)?,
                allocation: entry(self.refers)?,
            }),
            Kind::DeliveryConfirm => Payload::DeliveryConfirm(DeliveryConfirm {
                report: entry(self.refers)?.ok_or_else(|| {
                    bad(format!(
                        "projection row {index}: a confirmation without its report"
                    ))
                })?,
                amount: self.amount,
                date: date(self.date)?,
            }),
            other => {
                let json = text("payload", self.payload)?;
                let v: serde_json::Value = serde_json::from_str(&json)
                    .map_err(|e| bad(format!("projection row {index}: payload: {e}")))?;
                Payload::from_json(other, v)
                    .map_err(|e| bad(format!("projection row {index}: {e}")))?
            }
        };
        Ok(Record {
            author: self.author,
            time: time("time", self.time)?,
            received: self.received.map(|r| time("receipt time", r)).transpose()?,
            payload,
        })
    }

    /// The names of the columns in which `other` differs from this row.
    pub fn differences(&self, other: &RecordRow) -> Vec<&'static str> {
        [
            ("kind", self.kind == other.kind),
            ("author", self.author == other.author),
            ("time", self.time == other.time),
            ("received", self.received == other.received),
            ("commitment", self.commitment == other.commitment),
            ("amount", self.amount == other.amount),
            ("date", self.date == other.date),
            ("reference", self.reference == other.reference),
            ("ref", self.refers == other.refers),
            ("payload", self.payload == other.payload),
        ]
        .into_iter()
        .filter_map(|(name, same)| (!same).then_some(name))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use compact_statement::testkit::{make, report, sign_agreement, world};
    use compact_statement::{DeliveryConfirm as Confirm, Payload as P};

    #[test]
    fn every_row_reads_back_as_the_record_it_was_made_of() {
        let w = world();
        let mut all = w.genesis();
        all.push(sign_agreement(&w, &w.gb, "GB", "gb-ua"));
        all.push(report(&w, &w.gb, "GB", "gb-tranches", "500 shells"));
        let confirm = |amount: Option<&str>| {
            P::DeliveryConfirm(Confirm {
                report: 10,
                amount: amount.map(str::to_owned),
                date: "2024-07-02".parse().unwrap(),
            })
        };
        all.push(make(&w, &w.ua, "UA", "2024-07-03T00:00:00Z", confirm(None)));
        all.push(make(
            &w,
            &w.ua,
            "UA",
            "2024-07-03T00:00:00Z",
            confirm(Some("1 shells")),
        ));
        for (i, st) in all.iter().enumerate() {
            let st = &st.received_at(st.time).unwrap();
            let row = RecordRow::of_statement(st);
            assert_eq!(row.record(i as u64), Ok(Record::of(st)), "{row:?}");
            assert!(row.differences(&row).is_empty());
        }
    }
}

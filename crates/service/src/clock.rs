//! The operator's clock, as a value: the service reads no clock and no environment. The CLI
//! makes one from `COMPACT_CLOCK`; the server from its own clock.

use compact_store::Clock;
use jiff::Timestamp;

/// The operator's clock: the system's now, a fixed simulated time, or a replay that receives
/// each statement at its own time (to replay a dated history, as the demo does). Receipt times
/// never go back, whichever clock runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorClock {
    /// The operator's now, read by the caller.
    Now(Timestamp),
    /// A fixed simulated time.
    Fixed(Timestamp),
    /// Each statement is received at its own time.
    Replay,
}

/// Before a compact is read, a replay clock's now.
const REPLAY_EPOCH_SECONDS: i64 = 946_684_800; // 2000-01-01T00:00:00Z

impl OperatorClock {
    /// The store's clock.
    pub fn store_clock(self) -> Clock {
        match self {
            OperatorClock::Now(t) | OperatorClock::Fixed(t) => Clock::At(t),
            OperatorClock::Replay => Clock::Simulated,
        }
    }

    /// The time a statement made now is dated: the clock's now; under a replay clock,
    /// `last_receipt` (the log's last receipt, or the compact's adoption before any;
    /// 2000-01-01 before a compact is read).
    pub fn statement_time(self, last_receipt: Option<Timestamp>) -> Timestamp {
        match self {
            OperatorClock::Now(t) | OperatorClock::Fixed(t) => t,
            OperatorClock::Replay => last_receipt.unwrap_or_else(|| {
                Timestamp::from_second(REPLAY_EPOCH_SECONDS).unwrap_or(Timestamp::UNIX_EPOCH)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_dates_at_the_last_receipt_or_the_epoch() {
        let t: Timestamp = "2026-01-02T03:04:05Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        assert_eq!(OperatorClock::Fixed(t).statement_time(None), t);
        assert_eq!(OperatorClock::Replay.statement_time(Some(t)), t);
        assert_eq!(
            OperatorClock::Replay.statement_time(None).to_string(),
            "2000-01-01T00:00:00Z"
        );
        assert_eq!(OperatorClock::Replay.store_clock(), Clock::Simulated);
        assert_eq!(OperatorClock::Now(t).store_clock(), Clock::At(t));
    }
}

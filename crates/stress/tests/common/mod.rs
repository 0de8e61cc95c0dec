//! The small hand-built baseline the tests share.

#![allow(dead_code, clippy::unwrap_used)]

use compact_stress::{Baseline, BaselineInput, Line};

/// Guarantors A, B, C; lines air-defence (systems ×100) and weapons (EUR cents); 2025-2028.
///
/// weapons      A: 1200 1200 1200 1200   B: 600 600 0 600   C: 0 240 240 240
///              requirement 1500 2000 1500 -        scheduled 1800 2040 1440 2040
/// air-defence  A: 200 0 200 0           B: 100 100 100 100 C: 0 0 0 0
///              requirement 300 100 300 100         scheduled 300 100 300 100
/// GDP          A: 200, B: 300, C: 100
pub fn small() -> Baseline {
    Baseline::new(BaselineInput {
        currency: "EUR".into(),
        first_year: 2025,
        last_year: 2028,
        // given out of order on purpose: the baseline sorts them
        guarantors: vec!["B".into(), "A".into(), "C".into()],
        gdp: vec![Some(300), Some(200), Some(100)],
        lines: vec![
            Line::money("weapons", "EUR"),
            Line::units("air-defence", "systems"),
        ],
        requirements: vec![
            vec![Some(1500), Some(2000), Some(1500), None],
            vec![Some(300), Some(100), Some(300), Some(100)],
        ],
        support: vec![
            // B
            vec![vec![600, 600, 0, 600], vec![100, 100, 100, 100]],
            // A
            vec![vec![1200, 1200, 1200, 1200], vec![200, 0, 200, 0]],
            // C
            vec![vec![0, 240, 240, 240], vec![0, 0, 0, 0]],
        ],
    })
    .unwrap()
}

/// Index of the weapons line in [`small`] (lines sort by pillar: air-defence first).
pub const WEAPONS: usize = 1;
/// Index of the air-defence line in [`small`].
pub const AIR: usize = 0;

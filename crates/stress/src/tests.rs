//! Unit tests of the private arithmetic: delays, largest remainders, ranks, thresholds.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;

use crate::mc::{rank, yearly_thresholds};
use crate::whatif::{delay_into, div_half_even, largest_remainder};

#[test]
fn half_even_division() {
    let d = |n, m| div_half_even(n, m);
    assert_eq!(
        [d(5, 2), d(7, 2), d(9, 4), d(11, 4), d(10, 4)],
        [2, 4, 2, 3, 2]
    );
    assert_eq!([d(-5, 2), d(-7, 2), d(-1, 3), d(0, 7)], [-2, -4, 0, 0]);
}

#[test]
fn delays_shift_whole_years_then_split() {
    let row = [1200, 0, 600];
    let mut out = [0; 3];
    assert_eq!(delay_into(&row, 0, &mut out), 0);
    assert_eq!(out, row);
    let mut out = [0; 3];
    assert_eq!(delay_into(&row, 12, &mut out), 600);
    assert_eq!(out, [0, 1200, 0]);
    let mut out = [0; 3];
    assert_eq!(delay_into(&row, 4, &mut out), 200);
    assert_eq!(out, [800, 400, 400]);
    let mut out = [0; 3];
    assert_eq!(delay_into(&row, 120, &mut out), 1800);
    assert_eq!(out, [0, 0, 0]);
}

#[test]
fn largest_remainders() {
    assert_eq!(largest_remainder(10, &[1, 1, 1]), [4, 3, 3]);
    assert_eq!(largest_remainder(2, &[1, 1, 1]), [1, 1, 0]);
    assert_eq!(largest_remainder(100, &[2, 1]), [67, 33]);
    assert_eq!(largest_remainder(0, &[2, 1]), [0, 0]);
    assert_eq!(largest_remainder(5, &[]), Vec::<i64>::new());
    assert_eq!(
        largest_remainder(i64::MAX, &[i64::MAX, i64::MAX])
            .iter()
            .map(|v| i128::from(*v))
            .sum::<i128>(),
        i128::from(i64::MAX)
    );
}

#[test]
fn nearest_ranks() {
    // n = 1: everything is the one value
    assert_eq!([rank(5, 1), rank(50, 1), rank(95, 1)], [0, 0, 0]);
    // n = 10: ranks ceil(0.5) = 1, ceil(5) = 5, ceil(9.5) = 10
    assert_eq!([rank(5, 10), rank(50, 10), rank(95, 10)], [0, 4, 9]);
    // n = 100: ranks 5, 50, 95
    assert_eq!([rank(5, 100), rank(50, 100), rank(95, 100)], [4, 49, 94]);
    assert_eq!(rank(95, 1_000_000), 949_999);
}

#[test]
fn thresholds_are_cumulative() {
    assert_eq!(yearly_thresholds(0.0, 3), [0, 0, 0]);
    assert_eq!(yearly_thresholds(1.0, 3), [1 << 53; 3]);
    let t = yearly_thresholds(0.5, 3);
    assert_eq!(t, [1 << 52, 3 << 51, 7 << 50]);
}

proptest! {
    #[test]
    fn a_delay_conserves_the_total(row in proptest::collection::vec(0i64..1_000_000_000_000, 1..12), months in 0u32..=120) {
        let mut out = vec![0; row.len()];
        let beyond = delay_into(&row, months, &mut out);
        prop_assert_eq!(out.iter().sum::<i64>() + beyond, row.iter().sum::<i64>());
        prop_assert!(out.iter().all(|v| *v >= 0) && beyond >= 0);
        // nothing arrives before its year plus the whole years of the delay
        let whole = (months / 12) as usize;
        prop_assert!(out.iter().take(whole).all(|v| *v == 0));
    }

    #[test]
    fn largest_remainder_parts_add_up(total in 0i64..i64::MAX, weights in proptest::collection::vec(1i64..i64::MAX, 1..50)) {
        let parts = largest_remainder(total, &weights);
        prop_assert_eq!(parts.iter().map(|p| i128::from(*p)).sum::<i128>(), i128::from(total));
        let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
        for (p, w) in parts.iter().zip(&weights) {
            let exact = i128::from(total) * i128::from(*w);
            // floor(exact / sum) <= part <= floor + 1
            prop_assert!(i128::from(*p) * sum <= exact + sum && i128::from(*p) * sum > exact - sum);
        }
    }
}

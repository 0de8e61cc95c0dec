//! Known answers (RFC 6962 test tree; transparency-dev/merkle test data; the signed-note
//! example of golang.org/x/mod/sumdb/note) and properties of proofs.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;
use proptest::prelude::*;

/// The eight leaves of the reference tree used by RFC 6962 implementations
/// (certificate-transparency's merkle_tree tests, transparency-dev/merkle `testonly`).
fn reference_leaves() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0x00],
        vec![0x10],
        vec![0x20, 0x21],
        vec![0x30, 0x31],
        vec![0x40, 0x41, 0x42, 0x43],
        vec![0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        (0x60..=0x6f).collect(),
    ]
}

/// Roots of the reference tree at sizes 1 to 8.
const REFERENCE_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn tree(n: usize) -> MemoryTree {
    let mut t = MemoryTree::default();
    for leaf in reference_leaves().iter().take(n) {
        t.push(leaf).unwrap();
    }
    t
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    hex::encode(base64::engine::general_purpose::STANDARD.decode(s).unwrap())
}

#[test]
fn the_empty_tree_is_the_hash_of_nothing() {
    assert_eq!(
        hex_hash(&MemoryTree::default().root(0).unwrap()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex_hash(&Frontier::default().root()),
        hex_hash(&tlog_tiles::EMPTY_HASH)
    );
}

#[test]
fn reference_roots_at_every_size() {
    let t = tree(8);
    let mut f = Frontier::default();
    for (i, leaf) in reference_leaves().iter().enumerate() {
        f.push(leaf_hash(leaf));
        let n = i as u64 + 1;
        assert_eq!(
            hex_hash(&t.root(n).unwrap()),
            REFERENCE_ROOTS[i],
            "size {n}"
        );
        assert_eq!(hex_hash(&f.root()), REFERENCE_ROOTS[i], "frontier size {n}");
    }
}

/// transparency-dev/merkle, testdata/inclusion/1/happy-path.json (commit 73a0db1c):
/// leaf 0 in the reference tree of size 8.
#[test]
fn transparency_dev_inclusion_happy_path() {
    let p = InclusionProof {
        index: 0,
        tree_size: 8,
        leaf_hash: b64("bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="),
        root_hash: b64("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="),
        hashes: [
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ]
        .iter()
        .map(|s| b64(s))
        .collect(),
    };
    check_inclusion(&p).unwrap();
    assert_eq!(prove_inclusion(0, 8, tree(8).reader()).unwrap(), p);
    for broken in broken_inclusions(&p) {
        assert!(
            check_inclusion(&broken.1).is_err(),
            "accepted: {}",
            broken.0
        );
    }
}

/// transparency-dev/merkle, testdata/consistency/1/happy-path.json (commit bcba819e):
/// size 1 to size 8 of the reference tree.
#[test]
fn transparency_dev_consistency_happy_path() {
    let p = ConsistencyProof {
        old_size: 1,
        new_size: 8,
        old_root: b64("bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="),
        new_root: b64("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="),
        hashes: [
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ]
        .iter()
        .map(|s| b64(s))
        .collect(),
    };
    check_consistency(&p).unwrap();
    assert_eq!(prove_consistency(1, 8, tree(8).reader()).unwrap(), p);
    for broken in broken_consistencies(&p) {
        assert!(
            check_consistency(&broken.1).is_err(),
            "accepted: {}",
            broken.0
        );
    }
}

/// More known proofs of the reference tree (certificate-transparency merkle_tree tests).
#[test]
fn reference_proofs() {
    let t = tree(8);
    let cases: [(u64, u64, &[&str]); 3] = [
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (index, size, path) in cases {
        let p = prove_inclusion(index, size, t.reader()).unwrap();
        assert_eq!(p.hashes, path, "inclusion of {index} in {size}");
        check_inclusion(&p).unwrap();
    }
    let consistency: [(u64, u64, &[&str]); 3] = [
        (1, 1, &[]),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (old, new, path) in consistency {
        let p = prove_consistency(old, new, t.reader()).unwrap();
        assert_eq!(p.hashes, path, "consistency {old} to {new}");
        check_consistency(&p).unwrap();
    }
}

fn flip(hex_str: &str, bit: usize) -> String {
    let mut bytes = hex::decode(hex_str).unwrap();
    bytes[bit / 8] ^= 1 << (bit % 8);
    hex::encode(bytes)
}

const OTHER: &str = "0000000000000000000000000000000000000000000000000000000000000001";

/// The deliberately broken variants of an inclusion proof, after the kinds in
/// transparency-dev/merkle's testdata/inclusion (modified proof bits, inserted, removed,
/// preceding and trailing components, wrong leaf, wrong index, wrong size, wrong root).
fn broken_inclusions(p: &InclusionProof) -> Vec<(String, InclusionProof)> {
    let mut out = Vec::new();
    for i in 0..p.hashes.len() {
        let mut q = p.clone();
        q.hashes[i] = flip(&q.hashes[i], 3);
        out.push((format!("modified proof[{i}] bit 3"), q));
    }
    let mut q = p.clone();
    q.hashes.insert(0, OTHER.into());
    out.push(("preceding garbage".into(), q));
    let mut q = p.clone();
    q.hashes.push(OTHER.into());
    out.push(("trailing garbage".into(), q));
    if !p.hashes.is_empty() {
        let mut q = p.clone();
        q.hashes.pop();
        out.push(("removed component".into(), q));
        let mut q = p.clone();
        q.hashes.insert(1, q.hashes[0].clone());
        out.push(("inserted component".into(), q));
    }
    let mut q = p.clone();
    q.hashes.push(p.root_hash.clone());
    out.push(("trailing root".into(), q));
    let mut q = p.clone();
    q.leaf_hash = flip(&q.leaf_hash, 0);
    out.push(("wrong leaf".into(), q));
    let mut q = p.clone();
    q.root_hash = flip(&q.root_hash, 255);
    out.push(("random root".into(), q));
    let mut q = p.clone();
    q.root_hash = hex_hash(&tlog_tiles::EMPTY_HASH);
    out.push(("empty root".into(), q));
    for (name, index) in [("index + 1", p.index + 1), ("index ^ 2", p.index ^ 2)] {
        let mut q = p.clone();
        q.index = index;
        out.push((name.into(), q));
    }
    if p.index > 0 {
        let mut q = p.clone();
        q.index -= 1;
        out.push(("index - 1".into(), q));
    }
    for (name, size) in [("size * 2", p.tree_size * 2), ("size / 2", p.tree_size / 2)] {
        let mut q = p.clone();
        q.tree_size = size;
        out.push((name.into(), q));
    }
    out
}

/// The broken variants of a consistency proof, after transparency-dev/merkle's
/// testdata/consistency (modified bits, garbage, swapped and wrong roots, wrong sizes).
fn broken_consistencies(p: &ConsistencyProof) -> Vec<(String, ConsistencyProof)> {
    let mut out = Vec::new();
    for i in 0..p.hashes.len() {
        let mut q = p.clone();
        q.hashes[i] = flip(&q.hashes[i], 4);
        out.push((format!("modified proof[{i}] bit 4"), q));
    }
    let mut q = p.clone();
    q.hashes.insert(0, OTHER.into());
    out.push(("preceding garbage".into(), q));
    let mut q = p.clone();
    q.hashes.push(OTHER.into());
    out.push(("trailing garbage".into(), q));
    if !p.hashes.is_empty() {
        let mut q = p.clone();
        q.hashes.pop();
        out.push(("truncated proof".into(), q));
        let mut q = p.clone();
        q.hashes.clear();
        out.push(("empty proof".into(), q));
    }
    let mut q = p.clone();
    std::mem::swap(&mut q.old_root, &mut q.new_root);
    out.push(("swapped roots".into(), q));
    let mut q = p.clone();
    q.old_root = flip(&q.old_root, 7);
    out.push(("wrong root1".into(), q));
    let mut q = p.clone();
    q.new_root = flip(&q.new_root, 7);
    out.push(("wrong root2".into(), q));
    let mut q = p.clone();
    q.hashes.insert(0, p.old_root.clone());
    out.push(("preceding root1".into(), q));
    let mut q = p.clone();
    q.hashes.push(p.new_root.clone());
    out.push(("trailing root2".into(), q));
    for (name, size) in [("size1 + 1", p.old_size + 1), ("size1 ^ 2", p.old_size ^ 2)] {
        let mut q = p.clone();
        q.old_size = size;
        out.push((name.into(), q));
    }
    if p.old_size > 1 {
        let mut q = p.clone();
        q.old_size -= 1;
        out.push(("size1 - 1".into(), q));
    }
    for (name, size) in [("size2 * 2", p.new_size * 2), ("size2 / 2", p.new_size / 2)] {
        let mut q = p.clone();
        q.new_size = size;
        out.push((name.into(), q));
    }
    out
}

/// The signed-note example of golang.org/x/mod/sumdb/note (its package documentation),
/// reproduced byte for byte.
#[test]
fn go_signed_note_example() {
    let skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    let signed = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    let signer = signed_note::StandardSigner::new(skey).unwrap();
    let mut note = Note::new(text.as_bytes(), &[]).unwrap();
    note.add_sigs(&[&signer]).unwrap();
    assert_eq!(String::from_utf8(note.to_bytes()).unwrap(), signed);
    let v = verifier(vkey).unwrap();
    let parsed = Note::from_bytes(signed.as_bytes()).unwrap();
    parsed
        .verify(&VerifierList::new(vec![Box::new(v)]))
        .unwrap();
}

fn operator() -> (signed_note::StandardSigner, String) {
    let mut rng = rand_core::OsRng;
    let (skey, vkey) = signed_note::generate_key(&mut rng, "example.org/log");
    (signed_note::StandardSigner::new(&skey).unwrap(), vkey)
}

#[test]
fn checkpoints_sign_open_and_refuse() {
    let (signer, vkey) = operator();
    let t = tree(8);
    let note = sign_checkpoint("example.org/log", 8, t.root(8).unwrap(), &signer).unwrap();
    let text = String::from_utf8(note.clone()).unwrap();
    assert!(
        text.starts_with(&format!(
            "example.org/log\n8\n{}\n\n\u{2014} example.org/log ",
            "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
        )),
        "{text}"
    );
    let cp = open_checkpoint(&note, &vkey, "example.org/log").unwrap();
    assert_eq!((cp.size, cp.root), (8, t.root(8).unwrap()));

    let err = open_checkpoint(&note, &vkey, "other.org/log").unwrap_err();
    assert!(
        err.to_string().contains("checkpoint of another origin"),
        "{err}"
    );
    let (_, other_vkey) = operator();
    assert!(open_checkpoint(&note, &other_vkey, "example.org/log").is_err());
    let tampered = text.replace("\n8\n", "\n7\n");
    assert!(open_checkpoint(tampered.as_bytes(), &vkey, "example.org/log").is_err());
    assert!(open_checkpoint(b"garbage", &vkey, "example.org/log").is_err());
    assert!(verifier("not a key").is_err());

    let p = prove_inclusion(3, 8, t.reader()).unwrap();
    verify_inclusion(&p, &cp).unwrap();
    let p7 = prove_inclusion(3, 7, t.reader()).unwrap();
    let err = verify_inclusion(&p7, &cp).unwrap_err();
    assert!(
        err.to_string()
            .contains("the proof is for tree size 7, the checkpoint for size 8")
    );
    let c = prove_consistency(5, 8, t.reader()).unwrap();
    verify_consistency(&c, &cp).unwrap();
}

#[test]
fn out_of_range_requests_are_errors() {
    let t = tree(4);
    assert!(prove_inclusion(4, 4, t.reader()).is_err());
    assert!(prove_consistency(5, 4, t.reader()).is_err());
    assert!(prove_inclusion(0, 5, t.reader()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every inclusion and consistency proof of a tree of up to a few hundred leaves verifies,
    /// and the frontier computes every root and every stored hash the store would keep.
    #[test]
    fn all_proofs_verify(size in 1u64..300, seed in any::<u64>()) {
        let mut t = MemoryTree::default();
        let mut f = Frontier::default();
        for i in 0..size {
            let leaf = format!("{seed}-{i}");
            let n = t.size();
            let before = stored_hash_index(0, n);
            t.push(leaf.as_bytes()).unwrap();
            let created = f.push(leaf_hash(leaf.as_bytes()));
            let stored: Vec<Hash> = (before..stored_hash_count(n + 1))
                .map(|k| t.reader().hashes[&k])
                .collect();
            prop_assert_eq!(created, stored);
            prop_assert_eq!(f.root(), t.root(n + 1).unwrap());
        }
        let step = (size / 17).max(1);
        for n in (1..=size).step_by(step as usize) {
            let root = hex_hash(&t.root(n).unwrap());
            for i in (0..n).step_by(step as usize) {
                let p = prove_inclusion(i, n, t.reader()).unwrap();
                prop_assert_eq!(&p.root_hash, &root);
                check_inclusion(&p).unwrap();
            }
            for m in (0..=n).step_by(step as usize) {
                check_consistency(&prove_consistency(m, n, t.reader()).unwrap()).unwrap();
            }
        }
    }

    /// Any flipped bit in a proof, a root or a leaf hash makes the proof fail.
    #[test]
    fn any_flipped_bit_fails(size in 2u64..200, i in any::<prop::sample::Index>(), m in any::<prop::sample::Index>(), bit in 0usize..256, which in any::<prop::sample::Index>()) {
        let mut t = MemoryTree::default();
        for k in 0..size {
            t.push(&k.to_be_bytes()).unwrap();
        }
        let index = i.index(size as usize) as u64;
        let p = prove_inclusion(index, size, t.reader()).unwrap();
        let targets = p.hashes.len() + 2;
        let mut q = p.clone();
        match which.index(targets) {
            0 => q.leaf_hash = flip(&q.leaf_hash, bit),
            1 => q.root_hash = flip(&q.root_hash, bit),
            k => q.hashes[k - 2] = flip(&q.hashes[k - 2], bit),
        }
        prop_assert!(check_inclusion(&q).is_err());
        for (name, broken) in broken_inclusions(&p) {
            prop_assert!(check_inclusion(&broken).is_err(), "accepted {}", name);
        }

        let old = 1 + m.index(size as usize - 1) as u64;
        let c = prove_consistency(old, size, t.reader()).unwrap();
        let targets = c.hashes.len() + 2;
        let mut d = c.clone();
        match which.index(targets) {
            0 => d.old_root = flip(&d.old_root, bit),
            1 => d.new_root = flip(&d.new_root, bit),
            k => d.hashes[k - 2] = flip(&d.hashes[k - 2], bit),
        }
        prop_assert!(check_consistency(&d).is_err());
        for (name, broken) in broken_consistencies(&c) {
            if broken.old_size == broken.new_size && broken.old_root == broken.new_root && broken.hashes.is_empty() {
                continue; // a degenerate variant that is a true statement
            }
            prop_assert!(check_consistency(&broken).is_err(), "accepted {} ({:?})", name, broken);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Proofs from anyone: arbitrary sizes, indices and paths give an error, never a panic.
    #[test]
    fn arbitrary_proofs_never_panic(
        index in prop_oneof![0u64..20, any::<u64>()],
        size in prop_oneof![0u64..20, any::<u64>()],
        n in 0usize..70,
    ) {
        let hashes = vec![OTHER.to_owned(); n];
        let p = InclusionProof { index, tree_size: size, leaf_hash: OTHER.into(), root_hash: OTHER.into(), hashes: hashes.clone() };
        let _ = check_inclusion(&p);
        let c = ConsistencyProof { old_size: index, new_size: size, old_root: OTHER.into(), new_root: OTHER.into(), hashes };
        let _ = check_consistency(&c);
    }
}

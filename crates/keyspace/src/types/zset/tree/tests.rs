//! The tree against a model (a BTreeSet), and bulk loading.

use super::*;
use std::collections::BTreeSet;

/// A model key: score bits made orderable, then the member.
fn model_key(score: f64, member: &[u8]) -> (i64, Vec<u8>) {
    // Scores in the tests are small integers: exact in i64.
    (score as i64, member.to_vec())
}

fn check(tree: &Tree, model: &BTreeSet<(i64, Vec<u8>)>) {
    assert_eq!(tree.len(), model.len());
    let got: Vec<(i64, Vec<u8>)> = tree.iter().map(|e| model_key(e.score, &e.member)).collect();
    let want: Vec<(i64, Vec<u8>)> = model.iter().cloned().collect();
    assert_eq!(got, want);
    for (r, (s, m)) in model.iter().enumerate().step_by(7) {
        assert_eq!(tree.rank_of(*s as f64, m), Some(r));
        let e = tree.get(r).unwrap();
        assert_eq!(model_key(e.score, &e.member), (*s, m.clone()));
    }
    check_node(&tree.root, true);
}

fn check_node(node: &Node, root: bool) -> usize {
    match node {
        Node::Leaf(v) => {
            assert!(root || v.len() >= LEAF_MIN, "underfull leaf {}", v.len());
            assert!(v.len() <= LEAF_MAX);
            v.len()
        }
        Node::Inner(n) => {
            assert!(root || n.kids.len() >= INNER_MIN);
            assert!(n.kids.len() <= INNER_MAX && n.kids.len() >= 2);
            assert_eq!(n.seps.len() + 1, n.kids.len());
            for (i, kid) in n.kids.iter().enumerate() {
                assert_eq!(check_node(kid, false), n.counts[i]);
            }
            n.counts.iter().sum()
        }
    }
}

#[test]
fn random_operations_match_a_model() {
    let mut rng = fastrand::Rng::with_seed(7);
    for round in 0..6 {
        let mut tree = Tree::default();
        let mut model = BTreeSet::new();
        let mut members = std::collections::HashMap::new();
        let span = [10u32, 100, 1000, 5000, 20000, 3][round];
        for step in 0..30_000 {
            let score = rng.u32(..span / 2 + 1) as f64;
            let member = format!("m{}", rng.u32(..span)).into_bytes();
            let key = model_key(score, &member);
            let grow = step < 15_000;
            if rng.u8(..10) < if grow { 6 } else { 3 } {
                if !members.contains_key(&member) {
                    members.insert(member.clone(), key.0);
                    model.insert(key);
                    tree.insert(score, SmallBytes::new(&member));
                }
            } else if rng.bool() {
                let found = model.take(&key).is_some();
                if found {
                    members.remove(&member);
                }
                assert_eq!(tree.remove(score, &member).is_some(), found);
            } else if !model.is_empty() {
                let r = rng.usize(..model.len());
                let want = model.iter().nth(r).cloned().unwrap();
                model.remove(&want);
                members.remove(&want.1);
                let e = tree.remove_at(r);
                assert_eq!(model_key(e.score, &e.member), want);
            }
            if step % 997 == 0 {
                check(&tree, &model);
            }
        }
        check(&tree, &model);
    }
}

#[test]
fn bulk_load_walks_and_partition_points() {
    for n in [0usize, 1, 63, 64, 65, 100, 1000, 4097, 50_000] {
        let entries: Vec<Entry> = (0..n)
            .map(|i| Entry {
                score: (i / 3) as f64,
                member: SmallBytes::new(format!("{:06}", i).as_bytes()),
            })
            .collect();
        let tree = Tree::from_sorted(entries);
        check_node(&tree.root, true);
        assert_eq!(tree.len(), n);
        assert_eq!(tree.iter().count(), n);
        // Entries with score < 10 are the first 30.
        assert_eq!(tree.partition_point(|e| e.score < 10.0), n.min(30));
        let mut up = Vec::new();
        tree.walk_up(n / 2, |e| {
            up.push(e.member.clone());
            up.len() < 5
        });
        let want: Vec<SmallBytes> = (n / 2..n)
            .take(5)
            .map(|i| SmallBytes::new(format!("{:06}", i).as_bytes()))
            .collect();
        assert_eq!(up, want);
        let mut down = 0;
        tree.walk_down(n.saturating_sub(1), |_| {
            down += 1;
            true
        });
        assert_eq!(down, n);
    }
}

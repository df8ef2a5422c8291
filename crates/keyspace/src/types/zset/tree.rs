//! The ordered half of a sorted set: an order-statistic B+tree of (score, member)
//! entries. Leaves hold short sorted runs of entries; an inner node keeps, for each
//! child, the number of entries below it (rank arithmetic, like the spans of Redis's
//! skiplist) and a separator key (search). Insert, remove, "entry at rank" and "how
//! many entries satisfy a monotone predicate" all take O(log n) steps, and a range
//! is then walked leaf by leaf — a few cache misses per 64 entries instead of one
//! per skiplist node.
//!
//! Invariants: entries are unique and ordered by (score, member bytes); every
//! entry of `kids[i]` is < `seps[i]` ≤ every entry of `kids[i + 1]` (separators may
//! name entries removed since: they stay valid bounds); every node but the root
//! holds at least a quarter of its capacity, so the height stays logarithmic.

use crate::SmallBytes;
use std::cmp::Ordering;

/// Entries per leaf at most; a leaf that would exceed it splits in two.
const LEAF_MAX: usize = 64;
const LEAF_MIN: usize = LEAF_MAX / 4;
/// Children per inner node at most.
const INNER_MAX: usize = 32;
const INNER_MIN: usize = INNER_MAX / 4;
/// Fill of the nodes a bulk load creates: room to grow without splitting at once.
const LEAF_BULK: usize = LEAF_MAX * 3 / 4;
const INNER_BULK: usize = INNER_MAX * 3 / 4;

#[derive(Debug, Clone)]
pub struct Entry {
    pub score: f64,
    pub member: SmallBytes,
}

/// The sorted-set order: by score, then by member bytes (as Redis breaks ties).
/// Scores are never NaN; -0 and 0 are equal scores, as in C.
#[inline]
pub fn order(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    if s1 < s2 {
        Ordering::Less
    } else if s1 > s2 {
        Ordering::Greater
    } else {
        m1.cmp(m2)
    }
}

impl Entry {
    #[inline]
    fn cmp_key(&self, score: f64, member: &[u8]) -> Ordering {
        order(self.score, &self.member, score, member)
    }
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Vec<Entry>),
    Inner(Box<Inner>),
}

#[derive(Debug, Clone)]
struct Inner {
    seps: Vec<Entry>,
    counts: Vec<usize>,
    kids: Vec<Node>,
}

impl Node {
    fn new_leaf() -> Node {
        Node::Leaf(Vec::new())
    }

    /// Entries below this node (O(fan-out) for an inner node: only used on splits
    /// and merges).
    fn count(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(n) => n.counts.iter().sum(),
        }
    }

    fn underfull(&self) -> bool {
        match self {
            Node::Leaf(v) => v.len() < LEAF_MIN,
            Node::Inner(n) => n.kids.len() < INNER_MIN,
        }
    }

    fn first(&self) -> Option<&Entry> {
        match self {
            Node::Leaf(v) => v.first(),
            Node::Inner(n) => n.kids[0].first(),
        }
    }

    /// Inserts `e` (not present); returns the new right sibling and its separator
    /// when this node had to split.
    fn insert(&mut self, e: Entry) -> Option<(Entry, Node)> {
        match self {
            Node::Leaf(v) => {
                let i = v.partition_point(|x| x.cmp_key(e.score, &e.member) == Ordering::Less);
                if v.capacity() == 0 {
                    v.reserve_exact(4);
                }
                v.insert(i, e);
                (v.len() > LEAF_MAX).then(|| split_leaf(v))
            }
            Node::Inner(n) => {
                let i = n.route(e.score, &e.member);
                n.counts[i] += 1;
                let (sep, right) = n.kids[i].insert(e)?;
                n.adopt(i, sep, right);
                (n.kids.len() > INNER_MAX).then(|| n.split())
            }
        }
    }

    fn remove(&mut self, score: f64, member: &[u8]) -> Option<Entry> {
        match self {
            Node::Leaf(v) => {
                let i = v.partition_point(|x| x.cmp_key(score, member) == Ordering::Less);
                (i < v.len() && v[i].cmp_key(score, member) == Ordering::Equal).then(|| v.remove(i))
            }
            Node::Inner(n) => {
                let i = n.route(score, member);
                let e = n.kids[i].remove(score, member)?;
                n.counts[i] -= 1;
                n.rebalance(i);
                Some(e)
            }
        }
    }

    fn remove_at(&mut self, rank: usize) -> Entry {
        match self {
            Node::Leaf(v) => v.remove(rank),
            Node::Inner(n) => {
                let (i, off) = n.locate(rank);
                let e = n.kids[i].remove_at(off);
                n.counts[i] -= 1;
                n.rebalance(i);
                e
            }
        }
    }

    /// Visits entries from index `skip` of this subtree upwards while `f` says so;
    /// false once `f` has asked to stop.
    fn walk_up<F: FnMut(&Entry) -> bool>(&self, skip: usize, f: &mut F) -> bool {
        match self {
            Node::Leaf(v) => v[skip..].iter().all(f),
            Node::Inner(n) => {
                let (first, off) = n.locate(skip);
                let mut off = off;
                for kid in &n.kids[first..] {
                    if !kid.walk_up(off, f) {
                        return false;
                    }
                    off = 0;
                }
                true
            }
        }
    }

    /// Visits entries from index `from` of this subtree downwards while `f` says so.
    fn walk_down<F: FnMut(&Entry) -> bool>(&self, from: usize, f: &mut F) -> bool {
        match self {
            Node::Leaf(v) => v[..=from].iter().rev().all(f),
            Node::Inner(n) => {
                let (last, off) = n.locate(from);
                if !n.kids[last].walk_down(off, f) {
                    return false;
                }
                for j in (0..last).rev() {
                    if !n.kids[j].walk_down(n.counts[j] - 1, f) {
                        return false;
                    }
                }
                true
            }
        }
    }
}

/// Splits an overfull leaf in two halves; the right one and its separator.
fn split_leaf(v: &mut Vec<Entry>) -> (Entry, Node) {
    let mut right = Vec::with_capacity(LEAF_MAX + 1);
    right.extend(v.drain(v.len() / 2..));
    (right[0].clone(), Node::Leaf(right))
}

impl Inner {
    /// The child whose key interval holds (score, member): the number of
    /// separators ≤ the key.
    #[inline]
    fn route(&self, score: f64, member: &[u8]) -> usize {
        self.seps
            .partition_point(|s| s.cmp_key(score, member) != Ordering::Greater)
    }

    /// The child holding the entry of subtree index `rank`, and its index there.
    #[inline]
    fn locate(&self, mut rank: usize) -> (usize, usize) {
        for (i, &c) in self.counts.iter().enumerate() {
            if rank < c {
                return (i, rank);
            }
            rank -= c;
        }
        // Only reached for rank == count (an empty walk): the end of the last child.
        let last = self.kids.len() - 1;
        (last, self.counts[last] + rank)
    }

    /// Places a child's new right sibling after it.
    fn adopt(&mut self, i: usize, sep: Entry, right: Node) {
        let moved = right.count();
        self.counts[i] -= moved;
        self.counts.insert(i + 1, moved);
        self.seps.insert(i, sep);
        self.kids.insert(i + 1, right);
    }

    /// Splits an overfull inner node in two halves: the middle separator moves up.
    fn split(&mut self) -> (Entry, Node) {
        let mid = self.kids.len() / 2;
        let kids = self.kids.split_off(mid);
        let counts = self.counts.split_off(mid);
        let seps = self.seps.split_off(mid);
        let up = self.seps.pop().expect("an overfull node has separators");
        (up, Node::Inner(Box::new(Inner { seps, counts, kids })))
    }

    /// After a removal under child `i`: merges it with a neighbour when it became
    /// underfull, or shares the neighbour's entries when both together are too many
    /// for one node.
    fn rebalance(&mut self, i: usize) {
        if self.kids.len() < 2 || !self.kids[i].underfull() {
            return;
        }
        let l = if i > 0 { i - 1 } else { i };
        let right = self.kids.remove(l + 1);
        self.counts.remove(l + 1);
        let sep = self.seps.remove(l);
        let split = match (&mut self.kids[l], right) {
            (Node::Leaf(a), Node::Leaf(mut b)) => {
                a.append(&mut b);
                (a.len() > LEAF_MAX).then(|| split_leaf(a))
            }
            (Node::Inner(a), Node::Inner(b)) => {
                let b = *b;
                a.seps.push(sep);
                a.seps.extend(b.seps);
                a.counts.extend(b.counts);
                a.kids.extend(b.kids);
                (a.kids.len() > INNER_MAX).then(|| a.split())
            }
            _ => unreachable!("siblings are at the same depth"),
        };
        // Counted after any split: `a` has already given its upper half away.
        self.counts[l] = self.kids[l].count();
        if let Some((sep, right)) = split {
            self.counts.insert(l + 1, right.count());
            self.seps.insert(l, sep);
            self.kids.insert(l + 1, right);
        }
    }
}

#[derive(Debug, Clone)]
pub struct Tree {
    root: Node,
    len: usize,
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            root: Node::new_leaf(),
            len: 0,
        }
    }
}

impl Tree {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Builds a tree from entries already in order, without duplicates.
    pub fn from_sorted(entries: Vec<Entry>) -> Tree {
        let len = entries.len();
        if len <= LEAF_MAX {
            return Tree {
                root: Node::Leaf(entries),
                len,
            };
        }
        let mut level: Vec<(Node, usize)> = Vec::new();
        let mut rest = entries.into_iter();
        for size in even_chunks(len, LEAF_BULK) {
            let mut leaf = Vec::with_capacity(LEAF_MAX + 1);
            leaf.extend(rest.by_ref().take(size));
            level.push((Node::Leaf(leaf), size));
        }
        while level.len() > 1 {
            let mut upper = Vec::new();
            let mut rest = level.into_iter();
            for size in even_chunks(rest.len(), INNER_BULK) {
                let mut n = Inner {
                    seps: Vec::with_capacity(INNER_MAX),
                    counts: Vec::with_capacity(INNER_MAX + 1),
                    kids: Vec::with_capacity(INNER_MAX + 1),
                };
                for (kid, count) in rest.by_ref().take(size) {
                    if !n.kids.is_empty() {
                        n.seps
                            .push(kid.first().expect("bulk nodes are not empty").clone());
                    }
                    n.counts.push(count);
                    n.kids.push(kid);
                }
                let total = n.counts.iter().sum();
                upper.push((Node::Inner(Box::new(n)), total));
            }
            level = upper;
        }
        let (root, _) = level.pop().expect("at least one node");
        Tree { root, len }
    }

    /// Inserts an entry whose member is not in the tree.
    pub fn insert(&mut self, score: f64, member: SmallBytes) {
        self.len += 1;
        if let Some((sep, right)) = self.root.insert(Entry { score, member }) {
            let left = std::mem::replace(&mut self.root, Node::new_leaf());
            let counts = vec![left.count(), right.count()];
            self.root = Node::Inner(Box::new(Inner {
                seps: vec![sep],
                counts,
                kids: vec![left, right],
            }));
        }
    }

    /// Removes the entry (score, member); None if there is none.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> Option<Entry> {
        let e = self.root.remove(score, member)?;
        self.len -= 1;
        self.shrink_root();
        Some(e)
    }

    /// Removes the entry at `rank` (0 = lowest). `rank` must be < len.
    pub fn remove_at(&mut self, rank: usize) -> Entry {
        let e = self.root.remove_at(rank);
        self.len -= 1;
        self.shrink_root();
        e
    }

    fn shrink_root(&mut self) {
        while let Node::Inner(n) = &mut self.root {
            if n.kids.len() > 1 {
                break;
            }
            let only = n.kids.pop().expect("one child");
            self.root = only;
        }
    }

    /// The entry at `rank` (0 = lowest).
    pub fn get(&self, mut rank: usize) -> Option<&Entry> {
        if rank >= self.len {
            return None;
        }
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(v) => return v.get(rank),
                Node::Inner(n) => {
                    let (i, off) = n.locate(rank);
                    node = &n.kids[i];
                    rank = off;
                }
            }
        }
    }

    /// How many leading entries satisfy `pred`, which must hold for a prefix of the
    /// key order (true below some key, false from it on); it is also asked about
    /// separator keys, which need not be entries.
    pub fn partition_point(&self, mut pred: impl FnMut(&Entry) -> bool) -> usize {
        let mut node = &self.root;
        let mut before = 0;
        loop {
            match node {
                Node::Leaf(v) => return before + v.partition_point(&mut pred),
                Node::Inner(n) => {
                    let j = n.seps.partition_point(&mut pred);
                    before += n.counts[..j].iter().sum::<usize>();
                    node = &n.kids[j];
                }
            }
        }
    }

    /// The rank of entry (score, member), if present.
    pub fn rank_of(&self, score: f64, member: &[u8]) -> Option<usize> {
        let r = self.partition_point(|e| e.cmp_key(score, member) == Ordering::Less);
        self.get(r)
            .filter(|e| e.cmp_key(score, member) == Ordering::Equal)
            .map(|_| r)
    }

    /// Calls `f` on the entries from rank `from` upwards until it returns false.
    pub fn walk_up(&self, from: usize, mut f: impl FnMut(&Entry) -> bool) {
        if from < self.len {
            self.root.walk_up(from, &mut f);
        }
    }

    /// Calls `f` on the entries from rank `from` downwards until it returns false.
    pub fn walk_down(&self, from: usize, mut f: impl FnMut(&Entry) -> bool) {
        if from < self.len {
            self.root.walk_down(from, &mut f);
        }
    }

    /// Entries in order.
    pub fn iter(&self) -> Iter<'_> {
        let mut it = Iter {
            stack: Vec::new(),
            leaf: [].iter(),
        };
        it.descend(&self.root);
        it
    }
}

/// `total` items cut into runs of about `target` (at least one run), as even as
/// possible: no run is much smaller than the others, so bulk-built nodes are never
/// underfull.
fn even_chunks(total: usize, target: usize) -> impl Iterator<Item = usize> {
    let runs = total.div_ceil(target).max(1);
    let (base, extra) = (total / runs, total % runs);
    (0..runs).map(move |i| base + usize::from(i < extra))
}

/// In-order iterator over a tree's entries.
pub struct Iter<'a> {
    stack: Vec<(&'a Inner, usize)>,
    leaf: std::slice::Iter<'a, Entry>,
}

impl<'a> Iter<'a> {
    /// Goes down the leftmost path of `node`, remembering the inner nodes passed.
    fn descend(&mut self, mut node: &'a Node) {
        loop {
            match node {
                Node::Leaf(v) => {
                    self.leaf = v.iter();
                    return;
                }
                Node::Inner(n) => {
                    self.stack.push((n, 0));
                    node = &n.kids[0];
                }
            }
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Entry;

    fn next(&mut self) -> Option<&'a Entry> {
        loop {
            if let Some(e) = self.leaf.next() {
                return Some(e);
            }
            // This leaf is done: move to the next child of the nearest inner node
            // that has one.
            loop {
                let (n, i) = self.stack.pop()?;
                if i + 1 < n.kids.len() {
                    self.stack.push((n, i + 1));
                    self.descend(&n.kids[i + 1]);
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

//! RFC 6962 (and RFC 9162) Merkle tree hashing, roots, frontiers and inclusion proofs.

use ring::digest::{Context, SHA256, digest};

pub type Hash = [u8; 32];

fn finish(ctx: Context) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[0]);
    ctx.update(data);
    finish(ctx)
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[1]);
    ctx.update(left);
    ctx.update(right);
    finish(ctx)
}

fn empty_root() -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, b"").as_ref());
    out
}

/// The largest power of two strictly less than `n` (n ≥ 2).
fn split_point(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH(D[n]) over the given leaf hashes.
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n);
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// The roots of the perfect subtrees that make up a tree of `size` leaves, largest
/// first: enough to append the next leaf and to compute the root in O(log n).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut size = self.size;
        while size & 1 == 1 {
            if let Some(left) = self.nodes.pop() {
                hash = node_hash(&left, &hash);
            }
            size >>= 1;
        }
        self.nodes.push(hash);
        self.size += 1;
    }

    pub fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 32 * self.nodes.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for node in &self.nodes {
            out.extend_from_slice(node);
        }
        out
    }

    /// Parses the stored form; `None` when it is not a well-formed frontier.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (size, rest) = bytes.split_first_chunk::<8>()?;
        let size = u64::from_be_bytes(*size);
        if rest.len() % 32 != 0 || rest.len() / 32 != size.count_ones() as usize {
            return None;
        }
        let nodes = rest
            .chunks_exact(32)
            .filter_map(|c| c.try_into().ok())
            .collect();
        Some(Self { size, nodes })
    }
}

/// PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path for leaf `index`.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    collect_path(leaves, index, &mut path);
    Some(path)
}

/// The audit paths of many leaves of one tree at once (the same as `inclusion_proof` for
/// each): the tree's levels are built once, bottom-up, with a lone last node carried up
/// unchanged, which gives RFC 6962's tree for any size. O(n) hashes in all instead of
/// O(n) per path. `None` when an index is out of range.
pub fn inclusion_proofs(leaves: &[Hash], indices: &[usize]) -> Option<Vec<Vec<Hash>>> {
    if indices.iter().any(|&i| i >= leaves.len()) {
        return None;
    }
    let mut levels: Vec<Vec<Hash>> = vec![leaves.to_vec()];
    while let Some(below) = levels.last().filter(|l| l.len() > 1) {
        let above = below
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => node_hash(left, right),
                [lone] => *lone,
                _ => unreachable!("chunks of two"),
            })
            .collect();
        levels.push(above);
    }
    Some(
        indices
            .iter()
            .map(|&index| {
                let mut path = Vec::new();
                let mut m = index;
                for level in &levels[..levels.len() - 1] {
                    if let Some(sibling) = level.get(m ^ 1) {
                        path.push(*sibling);
                    }
                    m >>= 1;
                }
                path
            })
            .collect(),
    )
}

fn collect_path(leaves: &[Hash], m: usize, path: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m < k {
        collect_path(&leaves[..k], m, path);
        path.push(root_of(&leaves[k..]));
    } else {
        collect_path(&leaves[k..], m - k, path);
        path.push(root_of(&leaves[..k]));
    }
}

/// RFC 9162 §2.1.3.2: does `path` prove that `leaf` is at `index` in the tree of `size`
/// leaves with `root`?
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn empty_and_single_leaf_roots_match_rfc_6962() {
        assert_eq!(
            hex(&root_of(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // RFC 6962 test vector: the leaf hash of the empty string.
        assert_eq!(
            hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn frontier_root_equals_recursive_root_for_every_size_x3() {
        let all = leaves(70);
        let mut frontier = Frontier::default();
        for n in 1..=all.len() {
            frontier.push(all[n - 1]);
            assert_eq!(frontier.root(), root_of(&all[..n]), "size {n}");
            let back = Frontier::from_bytes(&frontier.to_bytes());
            assert_eq!(back.as_ref(), Some(&frontier));
        }
    }

    #[test]
    fn malformed_frontier_bytes_are_refused() {
        assert_eq!(Frontier::from_bytes(&[1, 2]), None);
        let mut frontier = Frontier::default();
        frontier.push([1; 32]);
        let mut bytes = frontier.to_bytes();
        bytes.extend_from_slice(&[0; 32]);
        assert_eq!(Frontier::from_bytes(&bytes), None);
    }

    #[test]
    fn inclusion_proofs_verify_for_every_leaf_and_fail_when_changed_x3() {
        for n in 1..=20 {
            let all = leaves(n);
            let root = root_of(&all);
            for m in 0..n {
                let Some(path) = inclusion_proof(&all, m) else {
                    unreachable!("index in range")
                };
                assert!(
                    verify_inclusion(&all[m], m as u64, n as u64, &path, &root),
                    "n={n} m={m}"
                );
                let wrong = leaf_hash(b"other");
                assert!(!verify_inclusion(&wrong, m as u64, n as u64, &path, &root));
                if n > 1 {
                    assert!(!verify_inclusion(
                        &all[m],
                        ((m + 1) % n) as u64,
                        n as u64,
                        &path,
                        &root
                    ));
                }
            }
        }
        assert_eq!(inclusion_proof(&leaves(3), 3), None);
    }

    #[test]
    fn batch_proofs_equal_single_proofs_for_every_size_x3() {
        for n in 1..=70 {
            let all = leaves(n);
            let indices: Vec<usize> = (0..n).collect();
            let Some(batch) = inclusion_proofs(&all, &indices) else {
                unreachable!("indices in range")
            };
            assert_eq!(batch.len(), n);
            for (m, path) in batch.iter().enumerate() {
                assert_eq!(Some(path.clone()), inclusion_proof(&all, m), "n={n} m={m}");
            }
        }
        assert_eq!(inclusion_proofs(&leaves(3), &[0, 3]), None);
        assert_eq!(inclusion_proofs(&leaves(3), &[]), Some(vec![]));
    }
}

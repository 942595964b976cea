//! Embedding vectors: their compact stored form (little-endian `f32`s, 4 bytes a
//! dimension), cosine similarity, and the pick of the most similar candidates.

use crate::config::MAX_DIMENSIONS;

/// A finite, non-empty vector of at most [`MAX_DIMENSIONS`] dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Vector(Vec<f32>);

impl Vector {
    /// `None` when empty, too long, or holding a NaN or an infinity.
    pub fn new(values: Vec<f32>) -> Option<Self> {
        (!values.is_empty() && values.len() <= MAX_DIMENSIONS && values.iter().all(|v| v.is_finite()))
            .then_some(Self(values))
    }

    pub fn dimensions(&self) -> usize {
        self.0.len()
    }

    pub fn values(&self) -> &[f32] {
        &self.0
    }

    /// The stored form: each dimension as 4 little-endian bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Reads [`Vector::to_bytes`]' form back (`None`: not a whole number of `f32`s, or
    /// not a valid vector).
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if !bytes.len().is_multiple_of(4) {
            return None;
        }
        let values = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Self::new(values)
    }

    /// Cosine similarity in [-1, 1]; `None` when the dimensions differ or either vector
    /// is all zeros (no direction to compare).
    pub fn cosine(&self, other: &Vector) -> Option<f32> {
        if self.0.len() != other.0.len() {
            return None;
        }
        let (mut dot, mut a, mut b) = (0f64, 0f64, 0f64);
        for (x, y) in self.0.iter().zip(&other.0) {
            let (x, y) = (f64::from(*x), f64::from(*y));
            dot += x * y;
            a += x * x;
            b += y * y;
        }
        if a == 0.0 || b == 0.0 {
            return None;
        }
        Some((dot / (a.sqrt() * b.sqrt())).clamp(-1.0, 1.0) as f32)
    }
}

/// The indices of at most `k` of `candidates` (given newest first): those whose vector
/// compares with `query`, most similar first (equal scores: the newer first), then — when
/// fewer than `k` compare — the newest of the others (no vector, another model's
/// dimensions, a zero vector), so a repository whose older ratings predate embeddings
/// still gets examples.
pub fn most_similar<'a>(
    query: &Vector,
    candidates: impl IntoIterator<Item = Option<&'a Vector>>,
    k: usize,
) -> Vec<usize> {
    let mut scored = Vec::new();
    let mut rest = Vec::new();
    for (i, vector) in candidates.into_iter().enumerate() {
        match vector.and_then(|v| query.cosine(v)) {
            Some(score) => scored.push((i, score)),
            None => rest.push(i),
        }
    }
    // Stable: equal scores keep the newer first.
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.into_iter().map(|(i, _)| i).chain(rest).take(k).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn v(values: &[f32]) -> Vector {
        Vector::new(values.to_vec()).unwrap()
    }

    #[test]
    fn only_finite_bounded_non_empty_vectors_exist() {
        assert!(Vector::new(vec![]).is_none());
        assert!(Vector::new(vec![1.0, f32::NAN]).is_none());
        assert!(Vector::new(vec![f32::INFINITY]).is_none());
        assert!(Vector::new(vec![0.5; MAX_DIMENSIONS + 1]).is_none());
        assert!(Vector::new(vec![0.5; MAX_DIMENSIONS]).is_some());
    }

    #[test]
    fn the_stored_form_is_four_little_endian_bytes_a_dimension() {
        let x = v(&[1.0, -0.5]);
        assert_eq!(x.to_bytes(), [0, 0, 128, 63, 0, 0, 0, 191]);
        assert_eq!(Vector::from_bytes(&x.to_bytes()), Some(x));
        assert_eq!(Vector::from_bytes(&[0, 0, 128]), None, "not whole f32s");
        assert_eq!(Vector::from_bytes(&[]), None);
        assert_eq!(Vector::from_bytes(&f32::NAN.to_le_bytes()), None);
    }

    #[test]
    fn cosine_ignores_length_and_refuses_what_cannot_compare() {
        let c = v(&[1.0, 0.0]).cosine(&v(&[3.0, 0.0])).unwrap();
        assert!((c - 1.0).abs() < 1e-6);
        assert!(v(&[1.0, 0.0]).cosine(&v(&[0.0, 2.0])).unwrap().abs() < 1e-6);
        assert!((v(&[1.0, 0.0]).cosine(&v(&[-1.0, 0.0])).unwrap() + 1.0).abs() < 1e-6);
        assert_eq!(v(&[1.0, 0.0]).cosine(&v(&[1.0, 0.0, 0.0])), None, "dimensions differ");
        assert_eq!(v(&[0.0, 0.0]).cosine(&v(&[1.0, 0.0])), None, "a zero vector");
        assert_eq!(v(&[1.0, 0.0]).cosine(&v(&[0.0, 0.0])), None);
    }

    #[test]
    fn most_similar_ranks_by_cosine_then_recency_then_fills_with_the_newest_others() {
        let q = v(&[1.0, 0.0]);
        let far = v(&[0.0, 1.0]);
        let near = v(&[0.9, 0.1]);
        let same = v(&[2.0, 0.0]);
        let other_model = v(&[1.0, 0.0, 0.0]);
        let zero = v(&[0.0, 0.0]);
        // Newest first: 0 far, 1 none, 2 near, 3 other model, 4 same, 5 zero, 6 same again.
        let candidates = [
            Some(&far),
            None,
            Some(&near),
            Some(&other_model),
            Some(&same),
            Some(&zero),
            Some(&same),
        ];
        assert_eq!(most_similar(&q, candidates, 3), vec![4, 6, 2], "ties: the newer first");
        assert_eq!(most_similar(&q, candidates, 5), vec![4, 6, 2, 0, 1]);
        assert_eq!(most_similar(&q, candidates, 99), vec![4, 6, 2, 0, 1, 3, 5]);
        assert_eq!(most_similar(&q, [None, None], 1), vec![0], "no vectors: the newest");
        assert!(most_similar(&q, candidates, 0).is_empty());
        assert!(most_similar(&q, std::iter::empty(), 3).is_empty());
    }

    proptest! {
        #[test]
        fn stored_vectors_round_trip(values in proptest::collection::vec(-1e6f32..1e6, 1..64)) {
            let x = Vector::new(values).unwrap();
            prop_assert_eq!(Vector::from_bytes(&x.to_bytes()), Some(x));
        }

        #[test]
        fn reading_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Some(x) = Vector::from_bytes(&bytes) {
                prop_assert_eq!(x.dimensions() * 4, bytes.len());
            }
        }
    }
}

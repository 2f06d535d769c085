//! 1:N search among the faces enrolled for today (the people booked at
//! this campus, from their registration or enrolment photos) and 1:1
//! comparison with an ID card's photo. Embeddings are L2-normalised on the
//! way in, so a score is a cosine similarity in [-1, 1].

use std::collections::HashMap;

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum GalleryError {
    #[error("an embedding of {got} numbers where this gallery holds {want}")]
    Dimensions { want: usize, got: usize },
    #[error("an embedding of zero length or with a non-finite number")]
    Degenerate,
}

/// Who a face is, when it is anyone: the best score must reach
/// `threshold` and lead the runner-up (another person) by `margin`, so two
/// lookalikes booked the same day send both to the card instead of one to
/// the other's visit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub threshold: f32,
    pub margin: f32,
}

/// The best candidate and how clearly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub id: i64,
    pub score: f32,
    /// The best score of anyone else (−1 when nobody else is enrolled).
    pub runner_up: f32,
}

impl Rule {
    pub fn accepts(&self, c: &Candidate) -> bool {
        c.score >= self.threshold && c.score - c.runner_up >= self.margin
    }
}

/// Enrolled embeddings, one row each, contiguous for a fast scan.
#[derive(Debug, Clone)]
pub struct Gallery {
    dims: usize,
    ids: Vec<i64>,
    rows: Vec<f32>,
}

impl Gallery {
    pub fn new(dims: usize) -> Self {
        Self {
            dims,
            ids: Vec::new(),
            rows: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Enrols `embedding` for `id` (a person may have several rows: photos
    /// from several visits).
    pub fn add(&mut self, id: i64, embedding: &[f32]) -> Result<(), GalleryError> {
        let row = normalised(embedding, self.dims)?;
        self.ids.push(id);
        self.rows.extend(row);
        Ok(())
    }

    /// The best-scoring person for `probe`, with the best score of anyone
    /// else; None for an empty gallery.
    pub fn best(&self, probe: &[f32]) -> Result<Option<Candidate>, GalleryError> {
        let p = normalised(probe, self.dims)?;
        // Each person's best row first: a second photo of the same person
        // is not their own runner-up.
        let mut per_person: HashMap<i64, f32> = HashMap::new();
        for (id, row) in self.ids.iter().zip(self.rows.chunks_exact(self.dims)) {
            let s = dot(&p, row);
            per_person
                .entry(*id)
                .and_modify(|b| *b = b.max(s))
                .or_insert(s);
        }
        let mut best: Option<Candidate> = None;
        for (id, score) in per_person {
            best = Some(match best {
                None => Candidate {
                    id,
                    score,
                    runner_up: -1.0,
                },
                Some(b) if score > b.score => Candidate {
                    id,
                    score,
                    runner_up: b.score,
                },
                Some(b) => Candidate {
                    runner_up: b.runner_up.max(score),
                    ..b
                },
            });
        }
        Ok(best)
    }
}

/// Cosine similarity of two embeddings of the same length.
pub fn cosine(a: &[f32], b: &[f32]) -> Result<f32, GalleryError> {
    let a = normalised(a, a.len())?;
    let b = normalised(b, a.len())?;
    Ok(dot(&a, &b))
}

fn normalised(v: &[f32], dims: usize) -> Result<Vec<f32>, GalleryError> {
    if v.len() != dims {
        return Err(GalleryError::Dimensions {
            want: dims,
            got: v.len(),
        });
    }
    let n = dot(v, v).sqrt();
    if !n.is_finite() || n < 1e-12 || v.iter().any(|x| !x.is_finite()) {
        return Err(GalleryError::Degenerate);
    }
    Ok(v.iter().map(|x| x / n).collect())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(i: usize, dims: usize) -> Vec<f32> {
        let mut v = vec![0.0; dims];
        v[i] = 1.0;
        v
    }

    #[test]
    fn the_nearest_person_wins_with_the_runner_up_beside() {
        let mut g = Gallery::new(4);
        g.add(10, &unit(0, 4)).unwrap();
        g.add(20, &[0.6, 0.8, 0.0, 0.0]).unwrap();
        g.add(30, &unit(2, 4)).unwrap();
        let c = g.best(&[2.0, 0.1, 0.0, 0.0]).unwrap().unwrap();
        assert_eq!(c.id, 10);
        assert!(c.score > 0.99 && (c.runner_up - 0.6).abs() < 0.05, "{c:?}");
    }

    #[test]
    fn a_persons_second_photo_is_not_their_own_runner_up() {
        let mut g = Gallery::new(2);
        g.add(1, &[1.0, 0.0]).unwrap();
        g.add(1, &[0.99, 0.1]).unwrap();
        g.add(2, &[0.0, 1.0]).unwrap();
        let c = g.best(&[1.0, 0.05]).unwrap().unwrap();
        assert_eq!(c.id, 1);
        assert!(c.runner_up < 0.1, "{c:?}");
        let rule = Rule {
            threshold: 0.5,
            margin: 0.1,
        };
        assert!(rule.accepts(&c));
        // Two lookalikes: neither is accepted.
        let twins = Candidate {
            id: 1,
            score: 0.8,
            runner_up: 0.75,
        };
        assert!(!rule.accepts(&twins));
    }

    #[test]
    fn bad_embeddings_are_refused_clearly() {
        let mut g = Gallery::new(3);
        assert_eq!(
            g.add(1, &[1.0, 0.0]),
            Err(GalleryError::Dimensions { want: 3, got: 2 })
        );
        assert_eq!(g.add(1, &[0.0; 3]), Err(GalleryError::Degenerate));
        assert_eq!(
            g.add(1, &[f32::NAN, 1.0, 0.0]),
            Err(GalleryError::Degenerate)
        );
        assert!(g.is_empty());
        assert_eq!(g.best(&[1.0, 0.0, 0.0]), Ok(None));
    }

    #[test]
    fn cosine_ignores_length() {
        let s = cosine(&[3.0, 4.0], &[6.0, 8.0]).unwrap();
        assert!((s - 1.0).abs() < 1e-6);
    }
}

//! The LFW protocol, for whoever supplies a labelled set in its layout
//! (`<root>/<name>/<name>_<NNNN>.jpg` and `pairs.txt`; no labelled face set
//! can be downloaded here): `pairs.txt` parsed, and from the pairs' scores
//! the 10-fold accuracy (each fold judged at the threshold that is best on
//! the other nine) and the false non-match rate at a fixed false match rate
//! (the kiosk's own operating point, 1e-4).

use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LfwError {
    #[error("pairs.txt line {line}: {why}")]
    Line { line: usize, why: String },
    #[error("pairs.txt is empty")]
    Empty,
}

/// One picture: a person's folder name and the picture's number (from 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Picture {
    pub name: String,
    pub number: u32,
}

impl Picture {
    /// Where LFW keeps it under `root`.
    pub fn path(&self, root: &Path) -> PathBuf {
        root.join(&self.name)
            .join(format!("{}_{:04}.jpg", self.name, self.number))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub fold: usize,
    pub a: Picture,
    pub b: Picture,
    pub same: bool,
}

/// Parses `pairs.txt`: a first line `<folds> <n>`, then per fold `n` lines
/// `name i j` (the same person) and `n` lines `name1 i name2 j` (two people).
pub fn parse_pairs(text: &str) -> Result<Vec<Pair>, LfwError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let (first, head) = lines.next().ok_or(LfwError::Empty)?;
    let bad = |line: usize, why: &str| LfwError::Line {
        line,
        why: why.to_string(),
    };
    let nums: Vec<usize> = head
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad(first, "expected '<folds> <pairs per kind>'"))?;
    let [folds, n] = nums[..] else {
        return Err(bad(first, "expected '<folds> <pairs per kind>'"));
    };
    let number = |line: usize, s: &str| {
        s.parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad(line, &format!("{s:?} is not a picture number")))
    };
    let mut out = Vec::with_capacity(folds * n * 2);
    for fold in 0..folds {
        for k in 0..2 * n {
            let (line, text) = lines
                .next()
                .ok_or_else(|| bad(first, &format!("fold {} ends early", fold + 1)))?;
            let f: Vec<&str> = text.split_whitespace().collect();
            let same = k < n;
            let (a, b) = match (same, f.as_slice()) {
                (true, [name, i, j]) => (
                    Picture {
                        name: (*name).into(),
                        number: number(line, i)?,
                    },
                    Picture {
                        name: (*name).into(),
                        number: number(line, j)?,
                    },
                ),
                (false, [n1, i, n2, j]) => (
                    Picture {
                        name: (*n1).into(),
                        number: number(line, i)?,
                    },
                    Picture {
                        name: (*n2).into(),
                        number: number(line, j)?,
                    },
                ),
                (true, _) => return Err(bad(line, "a matched pair is 'name i j'")),
                (false, _) => return Err(bad(line, "a mismatched pair is 'name1 i name2 j'")),
            };
            out.push(Pair { fold, a, b, same });
        }
    }
    if let Some((line, _)) = lines.next() {
        return Err(bad(line, "more pairs than the first line announces"));
    }
    Ok(out)
}

/// A pair's label and score (higher: more alike).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub fold: usize,
    pub same: bool,
    pub score: f32,
}

/// The 10-fold result.
#[derive(Debug, Clone, PartialEq)]
pub struct Folds {
    pub accuracy: f64,
    pub std_dev: f64,
    /// Each fold's threshold (chosen on the other folds) and accuracy.
    pub per_fold: Vec<(f32, f64)>,
}

/// Accuracy of `threshold` (score ≥ threshold says "same") over `pairs`.
fn accuracy(pairs: &[&Scored], threshold: f32) -> f64 {
    if pairs.is_empty() {
        return 0.0;
    }
    let right = pairs
        .iter()
        .filter(|p| (p.score >= threshold) == p.same)
        .count();
    right as f64 / pairs.len() as f64
}

/// The threshold with the best accuracy over `pairs`. Candidates are the
/// midpoints between neighbouring scores (and one below the lowest and one
/// above the highest), so the threshold sits in the middle of the gap it
/// found rather than on one side's last score, where the next fold's
/// pair of the same kind would fall on the wrong side as often as not.
fn best_threshold(pairs: &[&Scored]) -> f32 {
    let mut scores: Vec<f32> = pairs.iter().map(|p| p.score).collect();
    scores.sort_by(f32::total_cmp);
    scores.dedup();
    let (Some(lo), Some(hi)) = (scores.first().copied(), scores.last().copied()) else {
        return 0.0;
    };
    let mut candidates = vec![lo - 1e-3];
    candidates.extend(scores.windows(2).map(|w| (w[0] + w[1]) / 2.0));
    candidates.push(hi + 1e-3);
    let mut best = (candidates[0], -1.0);
    for t in candidates {
        let a = accuracy(pairs, t);
        if a > best.1 {
            best = (t, a);
        }
    }
    best.0
}

/// LFW's 10-fold accuracy: each fold judged at the threshold best on the
/// others. None without at least two folds.
pub fn ten_fold(scores: &[Scored]) -> Option<Folds> {
    let folds = scores.iter().map(|s| s.fold + 1).max()?;
    if folds < 2 {
        return None;
    }
    let mut per_fold = Vec::with_capacity(folds);
    for f in 0..folds {
        let (test, train): (Vec<&Scored>, Vec<&Scored>) = scores.iter().partition(|s| s.fold == f);
        let t = best_threshold(&train);
        per_fold.push((t, accuracy(&test, t)));
    }
    let n = per_fold.len() as f64;
    let mean = per_fold.iter().map(|(_, a)| a).sum::<f64>() / n;
    let var = per_fold
        .iter()
        .map(|(_, a)| (a - mean).powi(2))
        .sum::<f64>()
        / n;
    Some(Folds {
        accuracy: mean,
        std_dev: var.sqrt(),
        per_fold,
    })
}

/// The operating point for a target false match rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OperatingPoint {
    pub threshold: f32,
    /// Impostor pairs accepted at it (at most the target).
    pub fmr: f64,
    /// Genuine pairs refused at it.
    pub fnmr: f64,
    /// The smallest false match rate this set can tell apart from zero
    /// (one impostor pair): a target below it is not measured, only bounded.
    pub resolution: f64,
}

/// The lowest threshold whose false match rate is at most `target`, with
/// the false non-match rate there. None without both kinds of pair.
pub fn at_fmr(scores: &[Scored], target: f64) -> Option<OperatingPoint> {
    let mut impostor: Vec<f32> = scores.iter().filter(|s| !s.same).map(|s| s.score).collect();
    let genuine: Vec<f32> = scores.iter().filter(|s| s.same).map(|s| s.score).collect();
    if impostor.is_empty() || genuine.is_empty() {
        return None;
    }
    impostor.sort_by(|a, b| b.total_cmp(a));
    let n = impostor.len() as f64;
    // Accepting k impostors is allowed while k / n ≤ target; the threshold
    // sits just above the (k+1)-th highest impostor score.
    let k = (target * n).floor() as usize;
    let threshold = impostor.get(k).map_or(f32::NEG_INFINITY, |s| next_up(*s));
    let accepted = impostor.iter().filter(|s| **s >= threshold).count();
    let refused = genuine.iter().filter(|s| **s < threshold).count();
    Some(OperatingPoint {
        threshold,
        fmr: accepted as f64 / n,
        fnmr: refused as f64 / genuine.len() as f64,
        resolution: 1.0 / n,
    })
}

/// The smallest f32 above `x` (finite `x`).
fn next_up(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        return x;
    }
    if x == 0.0 {
        return f32::from_bits(1);
    }
    let bits = x.to_bits();
    f32::from_bits(if x > 0.0 { bits + 1 } else { bits - 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIRS: &str = "2 2
Aaron_Peirsol 1 2
Aaron_Peirsol 3 4
Abel_Pacheco 1 Jean_Chretien 3
AJ_Cook 1 Marsha_Thomason 1
Ai_Sugiyama 1 2
Ai_Sugiyama 2 5
Alex_Barros 1 Amelie_Mauresmo 2
Ali_Khamenei 1 Anthony_Ebert 1
";

    #[test]
    fn pairs_parse_into_folds_with_their_labels_and_paths() {
        let p = parse_pairs(PAIRS).unwrap();
        assert_eq!(p.len(), 8);
        assert_eq!(p.iter().filter(|p| p.same).count(), 4);
        assert_eq!((p[4].fold, p[4].same), (1, true));
        assert_eq!((p[7].fold, p[7].same), (1, false));
        assert_eq!(
            p[2].b.path(Path::new("/lfw")),
            PathBuf::from("/lfw/Jean_Chretien/Jean_Chretien_0003.jpg")
        );
    }

    #[test]
    fn broken_pairs_files_say_which_line() {
        assert_eq!(parse_pairs(""), Err(LfwError::Empty));
        let e = parse_pairs("2 2\nAaron 1\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = parse_pairs("1 1\nA 1 2\nB 0 C 1\n").unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        let e = parse_pairs("1 1\nA 1 2\nB 1 C 1\nD 1 2\n").unwrap_err();
        assert!(e.to_string().contains("more pairs"), "{e}");
        let e = parse_pairs("1 2\nA 1 2\n").unwrap_err();
        assert!(e.to_string().contains("ends early"), "{e}");
    }

    fn scored(fold: usize, same: bool, score: f32) -> Scored {
        Scored { fold, same, score }
    }

    #[test]
    fn separable_scores_are_perfect_and_a_flipped_pair_costs_its_fold() {
        let mut s = Vec::new();
        for f in 0..10 {
            for i in 0..10 {
                s.push(scored(f, true, 0.6 + i as f32 * 0.01));
                s.push(scored(f, false, 0.1 + i as f32 * 0.01));
            }
        }
        let r = ten_fold(&s).unwrap();
        assert_eq!(r.accuracy, 1.0);
        assert_eq!(r.per_fold.len(), 10);
        // One impostor scoring like a genuine pair in fold 3.
        s[61].score = 0.9;
        let r = ten_fold(&s).unwrap();
        assert!((r.per_fold[3].1 - 0.95).abs() < 1e-9, "{:?}", r.per_fold[3]);
        assert!((r.accuracy - 0.995).abs() < 1e-9);
    }

    #[test]
    fn the_operating_point_keeps_the_false_match_rate_and_says_its_resolution() {
        // 1,000 impostors at 0.000..0.999, genuine pairs at 0.5..1.49.
        let mut s: Vec<Scored> = (0..1000)
            .map(|i| scored(0, false, i as f32 / 1000.0))
            .collect();
        s.extend((0..100).map(|i| scored(0, true, 0.5 + i as f32 / 100.0)));
        let p = at_fmr(&s, 0.01).unwrap();
        assert!(p.fmr <= 0.01 && p.fmr > 0.009, "{p:?}");
        assert!(p.threshold > 0.989 && p.threshold <= 0.991, "{p:?}");
        assert!((p.fnmr - 0.49).abs() < 0.011, "{p:?}");
        // 1e-4 is below what 1,000 impostors resolve: none accepted.
        let p = at_fmr(&s, 1e-4).unwrap();
        assert_eq!(p.fmr, 0.0);
        assert_eq!(p.resolution, 1e-3);
        assert!(at_fmr(&s[..1000], 1e-4).is_none());
    }
}

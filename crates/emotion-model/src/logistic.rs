//! Multinomial logistic regression (softmax regression) with an L2 penalty, hand-written.
//!
//! Why hand-written: linfa-logistic only takes a dense design matrix (31,894 rows x 3,000
//! features of `f64` is 765 MB) and adding it would change the workspace manifest and lock file,
//! which this crate does not own. This fit works on a sparse CSR matrix, is deterministic (fixed
//! iteration count, no randomness, sequential sums) and produces exactly the serving form of
//! [`crate::Model`]: a feature -> per-class weight table plus a per-class bias.
//!
//! Objective: `mean_i -ln softmax(W x_i + b)[y_i] + l2 / 2 * |W|^2` (the bias is not penalised),
//! minimised with L-BFGS (memory 10, backtracking Armijo line search) from zero.
//!
//! Document features ([`doc_values`]): each in-vocabulary n-gram once (presence), times its IDF
//! when enabled (computed on the training rows and stored), then the vector is scaled to unit L2
//! norm. Everything is per document, so serving computes it without batch statistics.

/// A sparse row-major matrix.
#[derive(Debug, Clone, Default)]
pub struct Csr {
    /// Row `i` is `indptr[i]..indptr[i + 1]` in `indices` / `values`.
    pub indptr: Vec<usize>,
    /// Column (feature) indices, sorted within a row.
    pub indices: Vec<u32>,
    /// Values.
    pub values: Vec<f64>,
}

impl Csr {
    /// An empty matrix with no rows.
    pub fn new() -> Self {
        Self {
            indptr: vec![0],
            ..Self::default()
        }
    }

    /// Appends one row of (feature, value) pairs.
    pub fn push_row(&mut self, row: &[(u32, f64)]) {
        for &(f, x) in row {
            self.indices.push(f);
            self.values.push(x);
        }
        self.indptr.push(self.indices.len());
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        self.indices[a..b]
            .iter()
            .zip(&self.values[a..b])
            .map(|(&f, &x)| (f as usize, x))
    }
}

/// Turns sorted, deduplicated feature indices of a document into its feature values: presence,
/// times `idf[f]` if `idf` is not empty, scaled to unit L2 norm. Shared by training and serving so
/// both compute the same numbers in the same order.
pub fn doc_values(features: &[u32], idf: &[f64]) -> Vec<(u32, f64)> {
    let mut out: Vec<(u32, f64)> = features
        .iter()
        .map(|&f| (f, if idf.is_empty() { 1.0 } else { idf[f as usize] }))
        .collect();
    let norm = out.iter().map(|(_, x)| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        for (_, x) in &mut out {
            *x /= norm;
        }
    }
    out
}

/// Smoothed IDF as scikit-learn computes it: `ln((1 + n) / (1 + df)) + 1`, from per-document
/// feature lists.
pub fn idf(docs: &[Vec<u32>], features: usize) -> Vec<f64> {
    let mut df = vec![0u64; features];
    for doc in docs {
        for &f in doc {
            df[f as usize] += 1;
        }
    }
    let n = docs.len() as f64;
    df.iter()
        .map(|&d| ((1.0 + n) / (1.0 + d as f64)).ln() + 1.0)
        .collect()
}

/// Fitted parameters: `weights[f * classes + c]` and `bias[c]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// Row-major by feature, the layout [`crate::Model`] serves from.
    pub weights: Vec<f64>,
    /// One per class.
    pub bias: Vec<f64>,
}

impl Fitted {
    /// Class scores `W x + b` of row `i` of `x`, summed in row order then bias, as serving does.
    pub fn scores(&self, x: &Csr, i: usize) -> Vec<f64> {
        let classes = self.bias.len();
        let mut s = vec![0.0; classes];
        for (f, v) in x.row(i) {
            for (acc, w) in s
                .iter_mut()
                .zip(&self.weights[f * classes..(f + 1) * classes])
            {
                *acc += v * w;
            }
        }
        for (acc, b) in s.iter_mut().zip(&self.bias) {
            *acc += b;
        }
        s
    }

    /// The highest-scoring class of every row (first on ties).
    pub fn predict(&self, x: &Csr) -> Vec<usize> {
        (0..x.rows())
            .map(|i| {
                let s = self.scores(x, i);
                (0..s.len()).fold(0, |best, c| if s[c] > s[best] { c } else { best })
            })
            .collect()
    }
}

/// Objective value and gradient at `theta` (= weights then bias).
fn objective(
    x: &Csr,
    y: &[usize],
    classes: usize,
    features: usize,
    l2: f64,
    theta: &[f64],
    grad: &mut [f64],
) -> f64 {
    grad.iter_mut().for_each(|g| *g = 0.0);
    let (w, b) = theta.split_at(features * classes);
    let n = x.rows() as f64;
    let mut loss = 0.0;
    let mut s = vec![0.0; classes];
    for (i, &yi) in y.iter().enumerate() {
        s.copy_from_slice(b);
        for (f, v) in x.row(i) {
            for (acc, wc) in s.iter_mut().zip(&w[f * classes..(f + 1) * classes]) {
                *acc += v * wc;
            }
        }
        let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut z = 0.0;
        for v in s.iter_mut() {
            *v = (*v - max).exp();
            z += *v;
        }
        loss += z.ln() - (s[yi].ln());
        // Residual p - onehot, scaled by 1/n.
        for (c, v) in s.iter_mut().enumerate() {
            *v = (*v / z - if c == yi { 1.0 } else { 0.0 }) / n;
        }
        for (f, v) in x.row(i) {
            for (g, r) in grad[f * classes..(f + 1) * classes].iter_mut().zip(&s) {
                *g += v * r;
            }
        }
        for (g, r) in grad[features * classes..].iter_mut().zip(&s) {
            *g += r;
        }
    }
    let mut penalty = 0.0;
    for (g, wv) in grad[..features * classes].iter_mut().zip(w) {
        *g += l2 * wv;
        penalty += wv * wv;
    }
    loss / n + 0.5 * l2 * penalty
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Fits the model on `x` (rows = documents) and class indices `y` (< `classes`) with
/// `iterations` L-BFGS steps. Deterministic: the same input gives bit-identical weights.
pub fn fit(
    x: &Csr,
    y: &[usize],
    classes: usize,
    features: usize,
    l2: f64,
    iterations: usize,
) -> Fitted {
    const MEMORY: usize = 10;
    let dim = features * classes + classes;
    let mut theta = vec![0.0; dim];
    let mut grad = vec![0.0; dim];
    let mut f = objective(x, y, classes, features, l2, &theta, &mut grad);
    let mut history: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> =
        std::collections::VecDeque::new();
    let mut next = vec![0.0; dim];
    let mut next_grad = vec![0.0; dim];
    for _ in 0..iterations {
        // Two-loop recursion: direction = -H grad.
        let mut q = grad.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, yv, rho) in history.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(yv).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        if let Some((s, yv, _)) = history.back() {
            let gamma = dot(s, yv) / dot(yv, yv);
            q.iter_mut().for_each(|qi| *qi *= gamma);
        }
        for ((s, yv, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(yv, &q);
            q.iter_mut()
                .zip(s)
                .for_each(|(qi, si)| *qi += (a - beta) * si);
        }
        let direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&grad, &direction);
        let direction = if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            history.clear();
            slope = -dot(&grad, &grad);
            grad.iter().map(|v| -v).collect()
        } else {
            direction
        };
        if slope.abs() < 1e-20 {
            break;
        }
        let mut step = if history.is_empty() {
            1.0 / dot(&grad, &grad).sqrt().max(1.0)
        } else {
            1.0
        };
        let mut accepted = false;
        for _ in 0..30 {
            for ((n, t), d) in next.iter_mut().zip(&theta).zip(&direction) {
                *n = t + step * d;
            }
            let fn_ = objective(x, y, classes, features, l2, &next, &mut next_grad);
            if fn_ <= f + 1e-4 * step * slope {
                let s: Vec<f64> = next.iter().zip(&theta).map(|(a, b)| a - b).collect();
                let yv: Vec<f64> = next_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
                let sy = dot(&s, &yv);
                if sy > 1e-12 {
                    if history.len() == MEMORY {
                        history.pop_front();
                    }
                    history.push_back((s, yv, 1.0 / sy));
                }
                std::mem::swap(&mut theta, &mut next);
                std::mem::swap(&mut grad, &mut next_grad);
                f = fn_;
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    let bias = theta.split_off(features * classes);
    Fitted {
        weights: theta,
        bias,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_values_are_unit_norm_presence_times_idf() {
        let v = doc_values(&[0, 2], &[]);
        let r = 1.0 / 2f64.sqrt();
        assert_eq!(v, [(0, r), (2, r)]);
        let v = doc_values(&[1], &[1.0, 3.0]);
        assert_eq!(v, [(1, 1.0)]);
        let v = doc_values(&[0, 1], &[3.0, 4.0]);
        assert_eq!(v, [(0, 0.6), (1, 0.8)]);
        assert!(doc_values(&[], &[]).is_empty());
    }

    #[test]
    fn separable_data_is_learned_and_the_fit_is_deterministic() {
        // Feature c marks class c; feature 3 is noise present everywhere.
        let mut x = Csr::new();
        let mut y = Vec::new();
        for i in 0..30 {
            let c = i % 3;
            x.push_row(&doc_values(&[c as u32, 3], &[]));
            y.push(c);
        }
        let a = fit(&x, &y, 3, 4, 1e-3, 50);
        let b = fit(&x, &y, 3, 4, 1e-3, 50);
        assert_eq!(a, b);
        assert_eq!(a.predict(&x), y);
        // A stronger penalty shrinks the weights.
        let strong = fit(&x, &y, 3, 4, 1.0, 50);
        let norm = |f: &Fitted| f.weights.iter().map(|w| w * w).sum::<f64>();
        assert!(norm(&strong) < norm(&a));
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let mut x = Csr::new();
        x.push_row(&[(0, 0.5), (1, 1.0)]);
        x.push_row(&[(1, 2.0)]);
        x.push_row(&[(0, -1.0)]);
        let y = [0, 1, 2];
        let theta: Vec<f64> = (0..9).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut grad = vec![0.0; 9];
        objective(&x, &y, 3, 2, 0.1, &theta, &mut grad);
        let mut scratch = vec![0.0; 9];
        for k in 0..9 {
            let h = 1e-6;
            let mut plus = theta.clone();
            plus[k] += h;
            let mut minus = theta.clone();
            minus[k] -= h;
            let numeric = (objective(&x, &y, 3, 2, 0.1, &plus, &mut scratch)
                - objective(&x, &y, 3, 2, 0.1, &minus, &mut scratch))
                / (2.0 * h);
            assert!(
                (numeric - grad[k]).abs() < 1e-6,
                "{k}: {numeric} vs {}",
                grad[k]
            );
        }
    }
}

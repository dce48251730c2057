"""Tables of numeric and categorical columns: imputation, reduction, outliers.

    python benchmarks/bench_tables.py [--seeds 0 1 2] [--plant-seeds 0 1 ... 19]
                                      [--skip-fair] [--skip-imputation] [--splits 1]

Two real tables that ship inside packages (no download): Palmer penguins
(``palmerpenguins``: 344 penguins, species, island and sex categorical, four
measurements and the year numeric, with real missing values) and the affairs
survey of Fair (1978) bundled with statsmodels (``statsmodels``: 6,366 women,
18 times as many rows; religiousness, occupation, husband's occupation and
rating of the marriage are integer codes, given to skae as categorical with
``categorical_features``; age, years married, children, education and
affairs numeric). skae trains with default parameters on the DataFrames.

**Imputation**: each seed hides 20% of the observed entries completely at
random; categorical accuracy and numeric RMSE (in units of each column's
standard deviation) on the hidden entries, means over ``--seeds``. Against
SimpleImputer (mean and most frequent), KNNImputer on one-hot columns and
standardized numbers (a category: the largest of its group), and
IterativeImputer with a random forest on ordinal codes (the missForest
recipe, codes rounded).

**Reduction** at 2 and 5 dimensions, on complete rows, 75/25 splits (seeds 0
to ``--splits`` - 1, means, and the range of the label accuracy),
numeric columns standardized with the training rows' statistics for every
method, and the label column (penguins: species; affairs: whether
``affairs`` > 0) left out: held-out categorical reconstruction accuracy,
numeric MSE, and the accuracy of a logistic regression on the codes
predicting the label. Against OneHotEncoder + StandardScaler + PCA and FAMD
(the PCA of standardized numbers and of one-hot columns centred and divided
by the square root of their frequency, as prince computes it; prince 0.23's
FAMD has no reconstruction, so it is computed here).

**Outliers**: the held-out rows of the reduction's first split (seed 0), in a
tenth of which one entry is planted: a category swapped for another, or a
number set 6 standard deviations out; each of ``--plant-seeds`` plants anew
and the results are pooled (penguins' held-out quarter has 84 rows, so one
planting is 8 rows, and the default twenty plantings 160: over four sets of
five plantings, the share the repair names at k=2 ranged from 0.75 to 0.93).
At 2 and 5 dimensions: ROC AUC of ``AutoencoderOutlierDetector``'s scores
and of OneHot+PCA's reconstruction error (standardized one-hot columns and
numbers), and how often ``feature_errors`` is largest at the planted column
(all plantings, swapped categories, numbers), with ``method="reconstruction"``
and ``method="repair"``. Which swaps can be seen at all: for each categorical
column a random forest predicts it from the other columns of the training
rows; a swap is "seen" when, from the planted row's other columns, the
forest gives the planted category a lower probability than the true one
(a swap it does not see looks like a real row). Columns "seen" (the share
of swaps seen), "of seen" (how often ``feature_errors`` names a seen swap)
and "visible" (the share of planted rows that are numbers or seen swaps: the
naming rate of a method that names every number and every seen swap and no
other swap; not a strict bound, as an unseen swap can be named by chance).
Last, how well the forests predict each categorical column on the
held-out rows, against its most frequent category.
"""

import warnings
from collections import namedtuple

import numpy as np
import pandas as pd
from _harness import Table, parser, timed
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skae import AutoencoderImputer, AutoencoderOutlierDetector, AutoencoderTransformer


def penguins():
    from palmerpenguins import load_penguins

    frame = load_penguins()
    return "penguins", frame, ["species", "island", "sex"], "species", None


def fair():
    import statsmodels.api as sm

    frame = sm.datasets.fair.load_pandas().data
    codes = ["rate_marriage", "religious", "occupation", "occupation_husb"]
    frame[codes] = frame[codes].astype(int)
    label = (frame["affairs"] > 0).astype(int)
    return "affairs", frame, codes, "affairs", label


# ---------------------------------------------------------------- imputation
def one_hot(frame, categorical, numeric, stats):
    """One-hot columns (NaN for a missing category) beside standardized
    numbers; ``stats``: each numeric column's mean and deviation."""
    parts = [(frame[numeric] - stats[0]) / stats[1]]
    for column in categorical:
        dummies = pd.get_dummies(frame[column], prefix=column, dtype=float)
        dummies[frame[column].isna()] = np.nan
        parts.append(dummies)
    return pd.concat(parts, axis=1)


def knn_impute(masked, categorical, numeric, stats):
    encoded = one_hot(masked, categorical, numeric, stats)
    filled = pd.DataFrame(KNNImputer().fit_transform(encoded), columns=encoded.columns,
                          index=masked.index)
    out = masked.copy()
    out[numeric] = filled[numeric] * stats[1] + stats[0]
    for column in categorical:
        group = [c for c in filled.columns if c.startswith(f"{column}_")]
        out[column] = [c[len(column) + 1:] for c in filled[group].idxmax(axis=1)]
        out[column] = out[column].astype(masked[column].dtype, errors="ignore")
    return out


def forest_impute(masked, categorical, numeric, seed):
    codes = masked.copy()
    levels = {}
    for column in categorical:
        cats = pd.Categorical(masked[column])
        levels[column] = cats.categories
        codes[column] = np.where(cats.codes < 0, np.nan, cats.codes)
    imputer = IterativeImputer(RandomForestRegressor(n_estimators=50, random_state=seed,
                                                     n_jobs=1), max_iter=5, random_state=seed)
    filled = pd.DataFrame(imputer.fit_transform(codes.astype(float)), columns=codes.columns,
                          index=masked.index)
    out = masked.copy()
    out[numeric] = filled[numeric]
    for column in categorical:
        index = np.clip(np.round(filled[column]).astype(int), 0, len(levels[column]) - 1)
        out[column] = np.asarray(levels[column])[index]
    return out


def simple_impute(masked, categorical, numeric):
    out = masked.copy()
    out[numeric] = SimpleImputer(strategy="mean").fit_transform(masked[numeric])
    for column in categorical:
        out[column] = masked[column].fillna(masked[column].mode()[0])
    return out


def skae_impute(masked, categorical, numeric, seed):
    return AutoencoderImputer(categorical_features=categorical,
                              random_state=seed).fit_transform(masked)


def imputation(name, frame, categorical, seeds, table):
    numeric = [c for c in frame.columns if c not in categorical]
    deviation = frame[numeric].std()
    methods = {
        "mean / most frequent": lambda m, s: simple_impute(m, categorical, numeric),
        "KNNImputer (one-hot)": lambda m, s: knn_impute(
            m, categorical, numeric, (m[numeric].mean(), m[numeric].std())),
        "missForest (codes)": lambda m, s: forest_impute(m, categorical, numeric, s),
        "AutoencoderImputer": lambda m, s: skae_impute(m, categorical, numeric, s),
    }
    scores = {method: [] for method in methods}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        hidden = frame.notna().to_numpy() & (rng.random(frame.shape) < 0.2)
        masked = frame.mask(hidden)
        for method, impute in methods.items():
            seconds, filled = timed(impute, masked, seed)
            right, total, squared, count = 0, 0, 0.0, 0
            for j, column in enumerate(frame.columns):
                rows = hidden[:, j]
                if column in categorical:
                    right += int(same(filled[column].to_numpy()[rows],
                                      frame[column].to_numpy()[rows]).sum())
                    total += int(rows.sum())
                else:
                    error = (filled[column].to_numpy(float)[rows]
                             - frame[column].to_numpy(float)[rows]) / deviation[column]
                    squared, count = squared + float(np.sum(error**2)), count + int(rows.sum())
            scores[method].append((right / total, np.sqrt(squared / count), seconds))
    for method, runs in scores.items():
        accuracy, rmse, seconds = np.mean(runs, axis=0)
        table.row(name, method, accuracy, rmse, seconds)


# ----------------------------------------------------------------- reduction
def reconstruct_pca(train, test, categorical, numeric, k, famd):
    """Codes of both and the held-out reconstruction of OneHot+PCA or FAMD."""
    stats = (train[numeric].mean(), train[numeric].std())
    enc_train = one_hot(train, categorical, numeric, stats)
    enc_test = one_hot(test, categorical, numeric, stats).reindex(columns=enc_train.columns,
                                                                  fill_value=0.0)
    dummies = [c for c in enc_train.columns if c not in numeric]
    if famd:  # numbers standardized; indicators centred and divided by sqrt(frequency)
        center = enc_train.mean()
        center[numeric] = 0.0
        scale = pd.Series(1.0, index=enc_train.columns)
        scale[dummies] = np.sqrt(enc_train[dummies].mean())
    else:  # OneHotEncoder + StandardScaler
        center, scale = enc_train.mean(), enc_train.std().replace(0, 1)
    pca = PCA(k, random_state=0).fit((enc_train - center) / scale)
    codes = [pca.transform((e - center) / scale) for e in (enc_train, enc_test)]
    back = pd.DataFrame(pca.inverse_transform(codes[1]), columns=enc_train.columns) * scale \
        + center
    out = pd.DataFrame(index=range(len(test)))
    out[numeric] = back[numeric].to_numpy() * stats[1].to_numpy() + stats[0].to_numpy()
    for column in categorical:
        group = [c for c in dummies if c.startswith(f"{column}_")]
        out[column] = [c[len(column) + 1:] for c in back[group].idxmax(axis=1)]
    return codes, out


def same(a, b):
    """Where two arrays of categories agree (integer codes compared as
    numbers: a code comes back as 3.0 from a column that held NaN)."""
    try:
        return np.asarray(a, float) == np.asarray(b, float)
    except (TypeError, ValueError):
        return np.asarray(a).astype(str) == np.asarray(b).astype(str)


def reduction_scores(test, back, categorical, numeric, stats):
    accuracy = np.mean([np.mean(same(back[c].to_numpy(), test[c].to_numpy()))
                        for c in categorical])
    errors = [((back[c].to_numpy(float) - test[c].to_numpy(float)) / stats[1][c]) ** 2
              for c in numeric]
    return accuracy, float(np.mean(errors))


#: One train/test split of a table: its rows as they are and standardized
#: (numbers only), the labels, the column kinds and the numbers' training
#: means and deviations.
Split = namedtuple("Split", "train test std_train std_test y_train y_test categorical "
                            "numeric stats")


def split(frame, categorical, label, y, seed):
    """Complete rows without the label, 75/25 (stratified on the label);
    numbers standardized with the training rows' statistics."""
    frame = frame.dropna().reset_index(drop=True)
    if y is None:
        y = frame[label].astype(str).to_numpy()
    else:
        y = np.asarray(y)[frame.index]
    frame = frame.drop(columns=[label])
    categorical = [c for c in categorical if c != label]
    numeric = [c for c in frame.columns if c not in categorical]
    train, test, y_train, y_test = train_test_split(frame, y, test_size=0.25,
                                                    random_state=seed, stratify=y)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    stats = (train[numeric].mean(), train[numeric].std())
    std_train, std_test = train.copy(), test.copy()
    std_train[numeric] = (train[numeric] - stats[0]) / stats[1]
    std_test[numeric] = (test[numeric] - stats[0]) / stats[1]
    return Split(train, test, std_train, std_test, y_train, y_test, categorical, numeric, stats)


def reduce(part, k, method):
    """Held-out categorical accuracy, numeric MSE, label accuracy of a
    logistic regression on the codes, and fit seconds, on a :class:`Split`."""
    if method == "AutoencoderTransformer":
        model = AutoencoderTransformer(k, categorical_features=part.categorical, random_state=0)
        seconds, _ = timed(model.fit, part.std_train)
        codes = [model.transform(part.std_train), model.transform(part.std_test)]
        back = model.inverse_transform(codes[1])
        back[part.numeric] = back[part.numeric] * part.stats[1] + part.stats[0]
    else:
        seconds, (codes, back) = timed(reconstruct_pca, part.train, part.test, part.categorical,
                                       part.numeric, k, method == "FAMD")
    accuracy, mse = reduction_scores(part.test, back, part.categorical, part.numeric, part.stats)
    clf = LogisticRegression(max_iter=2000).fit(codes[0], part.y_train)
    return accuracy, mse, clf.score(codes[1], part.y_test), seconds


def reduction(name, frame, categorical, label, y, splits, table):
    """The reduction table, means over ``splits`` (split seeds 0, 1, ...),
    with the range of the label accuracy; returns split 0 for the outliers."""
    parts = [split(frame, categorical, label, y, seed) for seed in range(splits)]
    for k in (2, 5):
        for method in ("OneHot+PCA", "FAMD", "AutoencoderTransformer"):
            runs = np.array([reduce(part, k, method) for part in parts])
            labels = runs[:, 2]
            table.row(name, k, "  " + method, *runs.mean(axis=0)[:3],
                      f"  {labels.min():.3f}-{labels.max():.3f}", runs[:, 3].mean())
    return parts[0]


# ------------------------------------------------------------------ outliers
def plant(test, categorical, numeric, seed):
    """A copy of ``test`` with one entry planted in a tenth of its rows, and
    which rows and columns."""
    rng = np.random.default_rng(seed)
    planted = test.copy()
    rows = rng.choice(len(test), max(1, len(test) // 10), replace=False)
    columns = []
    for row in rows:
        if rng.random() < 0.5:  # a category swapped
            column = categorical[rng.integers(len(categorical))]
            others = [c for c in test[column].unique() if c != test.at[row, column]]
            planted.at[row, column] = others[rng.integers(len(others))]
        else:  # a number 6 standard deviations out (numbers are standardized)
            column = numeric[rng.integers(len(numeric))]
            planted.at[row, column] = 6.0 * (1 if rng.random() < 0.5 else -1)
        columns.append(column)
    return planted, rows, columns


def outliers(name, part, seeds, forests, table):
    """The outlier rows of ``part`` (a :class:`Split`), over the plantings
    of ``seeds``; ``forests``: :func:`column_forests` of its training rows."""
    std_train, std_test = part.std_train, part.std_test
    categorical, numeric = part.categorical, part.numeric
    stats = (std_train[numeric].mean(), std_train[numeric].std())
    enc_train = one_hot(std_train, categorical, numeric, stats)
    center, scale = enc_train.mean(), enc_train.std().replace(0, 1)
    names = list(std_test.columns)
    # The plantings, and which of their rows any model could see, once for both k.
    plantings = [plant(std_test, categorical, numeric, seed=seed) for seed in seeds]
    columns = [c for _, _, planted_columns in plantings for c in planted_columns]
    kinds = np.array([c in categorical for c in columns])
    visible = np.concatenate([seen(forests, std_test, planted, rows, planted_columns)
                              for planted, rows, planted_columns in plantings])
    for k in (2, 5):
        detector = AutoencoderOutlierDetector(AutoencoderTransformer(
            k, categorical_features=categorical, random_state=0)).fit(std_train)
        pca = PCA(k, random_state=0).fit((enc_train - center) / scale)
        aucs = []
        named = {"reconstruction": [], "repair": []}
        for planted, rows, planted_columns in plantings:
            truth = np.zeros(len(planted))
            truth[rows] = 1
            # OneHot+PCA: the reconstruction error of the encoded row.
            z = (one_hot(planted, categorical, numeric, stats).reindex(
                columns=enc_train.columns, fill_value=0.0) - center) / scale
            pca_error = ((pca.inverse_transform(pca.transform(z)) - z) ** 2).sum(axis=1)
            aucs.append((roc_auc_score(truth, -detector.score_samples(planted)),
                         roc_auc_score(truth, pca_error)))
            for method, hits in named.items():
                errors = detector.feature_errors(planted.iloc[rows], method=method)
                hits += [names[i] == c
                         for i, c in zip(errors.argmax(axis=1), planted_columns, strict=True)]
        for method, hits in named.items():
            hits = np.array(hits)
            table.row(name, k, *np.mean(aucs, axis=0), "  " + method, hits.mean(),
                      hits[kinds].mean(), hits[~kinds].mean(), len(hits),
                      visible[kinds].mean(), hits[kinds & visible].mean(), visible.mean())


def column_forests(std_train, categorical):
    """For each categorical column, a random forest predicting it from the
    other columns (one-hot categories, numbers) of the training rows, and
    the function that encodes rows for it."""
    fitted = {}
    for column in categorical:
        others = [c for c in categorical if c != column]
        train = pd.get_dummies(std_train.drop(columns=[column]), columns=others, dtype=float)

        def encode(frame, column=column, others=others, columns=train.columns):
            return pd.get_dummies(frame.drop(columns=[column]), columns=others,
                                  dtype=float).reindex(columns=columns, fill_value=0.0)

        forest = RandomForestClassifier(200, random_state=0).fit(
            train, std_train[column].astype(str))
        fitted[column] = forest, encode
    return fitted


def seen(forests, test, planted, rows, columns):
    """For each planted row: True for a number; for a swapped category,
    whether the forest of its column, from the row's other (unplanted)
    columns, gives the planted category a lower probability than the true
    one (a swap it does not see looks like a real row)."""
    out = np.ones(len(rows), bool)
    columns = np.asarray(columns)
    for column, (forest, encode) in forests.items():
        at = np.flatnonzero(columns == column)
        if not len(at):
            continue
        proba = forest.predict_proba(encode(planted.iloc[rows[at]]))
        index = {c: i for i, c in enumerate(forest.classes_)}
        true, swapped = ([index[str(v)] for v in frame[column].to_numpy()[rows[at]]]
                         for frame in (test, planted))
        out[at] = proba[np.arange(len(at)), swapped] < proba[np.arange(len(at)), true]
    return out


def predictability(name, part, forests, table):
    """How well the other columns predict each categorical column (a random
    forest on held-out rows) against its most frequent category: a swap the
    others cannot predict looks like a real row to any model."""
    test = part.std_test
    for column, (forest, encode) in forests.items():
        table.row(name, column, forest.score(encode(test), test[column].astype(str)),
                  test[column].value_counts(normalize=True).iloc[0])


def main():
    p = parser(__doc__)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--plant-seeds", type=int, nargs="+", default=list(range(20)))
    p.add_argument("--skip-fair", action="store_true", help="penguins only")
    p.add_argument("--skip-imputation", action="store_true", help="no imputation table")
    p.add_argument("--imputation-only", action="store_true", help="the imputation table alone")
    p.add_argument("--splits", type=int, default=1,
                   help="train/test splits (seeds 0, 1, ...) of the reduction, averaged")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    data = [penguins()] + ([] if args.skip_fair else [fair()])
    if not args.skip_imputation:
        print("Imputation: 20% of the observed entries hidden completely at random, "
              f"means over seeds {args.seeds}")
        table = Table([("data", 10, ""), ("method", 22, ""), ("cat. accuracy", 15, ".3f"),
                       ("num. RMSE (sd)", 16, ".3f"), ("s", 7, ".1f")])
        for name, frame, categorical, _, _ in data:
            imputation(name, frame, categorical, args.seeds, table)
    if args.imputation_only:
        return
    print("\nReduction: held-out rows, numbers in standard deviations, "
          f"means over {args.splits} split(s)")
    table = Table([("data", 10, ""), ("k", 3, "d"), ("  method", 25, ""),
                   ("cat. accuracy", 15, ".3f"), ("num. MSE", 10, ".3f"),
                   ("label acc", 11, ".3f"), ("  label range", 15, ""), ("fit s", 7, ".2f")])
    kept = [reduction(name, frame, categorical, label, y, args.splits, table)
            for name, frame, categorical, label, y in data]
    print("\nOutliers: one entry planted in a tenth of the held-out rows, "
          f"plantings {args.plant_seeds} pooled")
    table = Table([("data", 10, ""), ("k", 3, "d"), ("skae AUC", 10, ".3f"),
                   ("OneHot+PCA AUC", 16, ".3f"), ("  feature_errors", 18, ""), ("named", 7, ".2f"),
                   ("category", 10, ".2f"),
                   ("number", 8, ".2f"), ("planted", 9, "d"), ("seen", 6, ".2f"),
                   ("of seen", 9, ".2f"), ("visible", 9, ".2f")])
    forests = [column_forests(part.std_train, part.categorical) for part in kept]
    for (name, *_), part, forest in zip(data, kept, forests, strict=True):
        outliers(name, part, args.plant_seeds, forest, table)
    print("\nEach categorical column predicted from the others (held-out accuracy)")
    table = Table([("data", 10, ""), ("column", 18, ""), ("random forest", 15, ".3f"),
                   ("most frequent", 15, ".3f")])
    for (name, *_), part, forest in zip(data, kept, forests, strict=True):
        predictability(name, part, forest, table)


if __name__ == "__main__":
    main()

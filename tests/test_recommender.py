"""AutoencoderRecommender: pairs and ratings in, ratings and top-n lists out,
as a scikit-learn regressor; interactions; fold-in; bad input; sparse all
the way."""

import pickle
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from peak_memory import PREAMBLE
from sklearn.base import clone
from sklearn.ensemble import VotingRegressor
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split

import skae
from skae import AutoencoderRecommender
from skae._ranking import ndcg_at_k, recall_at_k, top_n
from skae._ratings import IdIndex, damped_biases
from skae.datasets import synthetic_pairs

FAST = dict(latent_dim=32, max_epochs=60, lr=1e-2, weight_decay=0.1, random_state=0)


@pytest.fixture(scope="module")
def low_rank():
    pairs, ratings = synthetic_pairs(300, 80, 9000, rank=3, noise=0.2, random_state=0)
    return train_test_split(pairs, ratings, test_size=0.2, random_state=0)


def _rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_ratings_are_predicted_better_than_by_the_baseline(low_rank):
    X_train, X_test, y_train, y_test = low_rank
    rec = AutoencoderRecommender(**FAST).fit(X_train, y_train)
    users, items = IdIndex(X_train[:, 0]), IdIndex(X_train[:, 1])
    mean, bu, bi = damped_biases(users.positions(X_train[:, 0]),
                                 items.positions(X_train[:, 1]), y_train,
                                 (len(users), len(items)))
    u, i = users.positions(X_test[:, 0]), items.positions(X_test[:, 1])
    baseline = mean + np.where(u >= 0, bu[u], 0) + np.where(i >= 0, bi[i], 0)
    pred = rec.predict(X_test)
    assert pred.shape == y_test.shape and np.isfinite(pred).all()
    # The low-rank structure is what the biases miss (noise 0.2 is the floor).
    assert _rmse(pred, y_test) < 0.8 * _rmse(baseline, y_test)
    assert rec.feedback_ == "explicit" and rec.orientation_ == "item"
    assert rec.net_.module_.observed_input and rec.net_.loss.name == "mse"
    assert rec.n_features_in_ == 2
    assert pred.min() >= y_train.min() and pred.max() <= y_train.max()


def test_ids_of_any_kind_and_dataframes(low_rank):
    pd = pytest.importorskip("pandas")
    X_train, X_test, y_train, _ = low_rank
    as_text = np.column_stack([[f"user{u}" for u in X_train[:, 0]],
                               [f"movie{i}" for i in X_train[:, 1]]]).astype(object)
    frame = pd.DataFrame({"user": as_text[:, 0], "movie": as_text[:, 1]})
    by_array = AutoencoderRecommender(**{**FAST, "max_epochs": 3}).fit(as_text, y_train)
    by_frame = AutoencoderRecommender(**{**FAST, "max_epochs": 3}).fit(frame, y_train)
    np.testing.assert_array_equal(by_array.predict(as_text[:50]), by_frame.predict(frame[:50]))
    assert list(by_frame.feature_names_in_) == ["user", "movie"]
    assert by_frame.users_.dtype.kind == "U" and by_frame.items_[0].startswith("movie")
    top = by_frame.recommend(["user0", "user1"], n=5)
    assert top.shape == (2, 5) and all(str(t).startswith("movie") for t in top.ravel())
    # Tuples as ids: any hashable.
    tuples = np.empty((len(X_train), 2), dtype=object)
    tuples[:, 0] = [("u", int(u)) for u in X_train[:, 0]]
    tuples[:, 1] = X_train[:, 1]
    rec = AutoencoderRecommender(**{**FAST, "max_epochs": 2}).fit(tuples, y_train)
    assert np.isfinite(rec.predict(tuples[:10])).all()


def test_it_is_a_regressor_for_cross_validation_grid_search_and_voting(low_rank):
    X_train, _, y_train, _ = low_rank
    rec = AutoencoderRecommender(**{**FAST, "max_epochs": 3})
    scores = cross_val_score(rec, X_train, y_train, cv=2, scoring="neg_root_mean_squared_error")
    assert scores.shape == (2,) and np.all(scores < 0)
    search = GridSearchCV(rec, {"latent_dim": [4, 8]}, cv=2,
                          scoring="neg_root_mean_squared_error").fit(X_train, y_train)
    assert search.best_params_["latent_dim"] in (4, 8)
    members = [(f"seed{s}", clone(rec).set_params(random_state=s)) for s in (0, 1)]
    votes = VotingRegressor(members).fit(X_train, y_train)
    np.testing.assert_allclose(votes.predict(X_train[:20]), np.mean(
        [member.predict(X_train[:20]) for member in votes.estimators_], axis=0))


def test_unknown_users_and_items_get_the_baseline_of_what_is_known(low_rank):
    X_train, _, y_train, _ = low_rank
    rec = AutoencoderRecommender(**{**FAST, "max_epochs": 3}).fit(X_train, y_train)
    item = rec.items_[0]
    user = rec.users_[0]
    pred = rec.predict([[10_000, item], [user, 10_000], [10_000, 10_001]])
    low, high = rec.rating_range_
    expected = np.clip([rec.global_mean_ + rec.item_bias_[0],
                        rec.global_mean_ + rec.user_bias_[0], rec.global_mean_], low, high)
    np.testing.assert_allclose(pred, expected)
    # Ids of another kind than at fit are unknown too, not an error.
    assert np.isfinite(rec.predict(np.array([["x", "y"]], dtype=object))).all()


@pytest.mark.parametrize("orientation", ["item", "user"])
def test_recommend_leaves_out_what_each_user_has_seen(low_rank, orientation):
    X_train, _, y_train, _ = low_rank
    rec = AutoencoderRecommender(**FAST, orientation=orientation).fit(X_train, y_train)
    users = rec.users_[:20]
    top = rec.recommend(users, n=10)
    assert top.shape == (20, 10)
    for user, items in zip(users, top, strict=True):
        seen = set(X_train[X_train[:, 0] == user, 1])
        assert not seen & set(items) and len(set(items)) == 10
    # Ranked best first by the predicted rating.
    pred = rec.predict(np.column_stack([np.repeat(users[0], 10), top[0]]))
    assert np.all(np.diff(pred) <= 1e-5)
    # A user neither seen nor folded in: the items of highest bias.
    np.testing.assert_array_equal(rec.recommend([10_000], n=3)[0],
                                  rec.items_[np.argsort(-rec.item_bias_)[:3]])
    with_seen = rec.recommend(users[:1], n=80, exclude_seen=False)
    assert set(X_train[X_train[:, 0] == users[0], 1]) <= set(with_seen[0])


def test_users_not_seen_at_fit_are_folded_in_from_their_history(low_rank):
    X_train, _, y_train, _ = low_rank
    new = X_train[:, 0] == X_train[0, 0]
    rec = AutoencoderRecommender(**FAST, orientation="user").fit(X_train[~new], y_train[~new])
    history = np.column_stack([np.full(new.sum(), "newcomer", dtype=object),
                               X_train[new, 1], y_train[new]])
    top = rec.recommend(["newcomer", rec.users_[0]], n=5, history=history)
    assert not set(X_train[new, 1]) & set(top[0])
    assert top[1].tolist() == rec.recommend([rec.users_[0]], n=5)[0].tolist()
    # A history of the opposite taste gives other recommendations.
    flipped = history.copy()
    flipped[:, 2] = 6 - flipped[:, 2].astype(float)
    assert rec.recommend(["newcomer"], n=5, history=flipped)[0].tolist() != top[0].tolist()
    with pytest.raises(ValueError, match="third column of ratings"):
        rec.recommend(["newcomer"], history=history[:, :2])
    by_items = AutoencoderRecommender(**{**FAST, "max_epochs": 2}).fit(X_train, y_train)
    with pytest.raises(ValueError, match="orientation='user'"):
        by_items.recommend(["newcomer"], history=history)


def test_interactions_train_a_multinomial_autoencoder():
    # Two tastes: users of group g interact with items of group g.
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(200), 8)
    group = users % 2
    items = group * 30 + rng.integers(0, 30, len(users))
    pairs = np.unique(np.column_stack([users, items]), axis=0)
    rec = AutoencoderRecommender(**FAST).fit(pairs)
    assert rec.feedback_ == "implicit" and rec.orientation_ == "user"
    assert rec.net_.loss.name == "multinomial" and not rec.net_.module_.observed_input
    top = rec.recommend(np.arange(20), n=5)
    # Nearly all recommendations come from the user's own group.
    assert np.mean(top // 30 == (np.arange(20) % 2)[:, None]) > 0.9
    scores = rec.predict(pairs[:20])
    assert np.all((scores >= 0) & (scores <= 1))
    # Fold-in from interactions alone.
    folded = rec.recommend(["new"], n=5, history=[["new", 31], ["new", 40], ["new", 45]])
    assert np.all(folded[0] // 30 == 1)


@pytest.mark.parametrize("X, y, match", [
    (np.array([[1, None], [2, 3]], dtype=object), [4, 5], "missing item id at row 0"),
    (np.array([[1.0, 2.0], [np.nan, 3.0]]), [4, 5], "missing user id at row 1"),
    ([[1, 2], [2, 3]], ["good", "bad"], "must hold numbers"),
    ([[1, 2], [2, 3]], [4, np.nan], "NaN or infinite"),
    (np.empty((0, 2)), np.empty(0), "no pairs"),
    ([[1, 2, 3]], [4], "3 feature.s. .shape=.1, 3.. while 2 is required"),
    ([[1, 2], [2, 3]], [4], "2 pairs but y has 1"),
])
def test_bad_input_gets_a_clear_error(X, y, match):
    with pytest.raises(ValueError, match=match):
        AutoencoderRecommender(**FAST).fit(X, y)


def test_a_matrix_is_refused_with_a_hint():
    with pytest.raises(TypeError, match="not a sparse matrix"):
        AutoencoderRecommender().fit(sp.random(5, 5, density=0.5, format="csr"))
    with pytest.raises(ValueError, match="architecture='mlp'"):
        AutoencoderRecommender(architecture="conv").fit([[1, 2]], [3])
    with pytest.raises(ValueError, match="Ratings train with loss='mse'"):
        AutoencoderRecommender(loss="multinomial").fit([[1, 2]], [3])
    with pytest.raises(NotImplementedError, match="fit it again"):
        AutoencoderRecommender().partial_fit([[1, 2]], [3])


def test_save_load_and_pickle_predict_the_same(low_rank, tmp_path):
    X_train, X_test, y_train, _ = low_rank
    rec = AutoencoderRecommender(**{**FAST, "max_epochs": 3}).fit(X_train, y_train)
    skae.save(rec, tmp_path / "rec.skae")
    for copy in (skae.load(tmp_path / "rec.skae"), pickle.loads(pickle.dumps(rec))):
        np.testing.assert_array_equal(copy.predict(X_test), rec.predict(X_test))
        np.testing.assert_array_equal(copy.recommend(rec.users_[:5], n=4),
                                      rec.recommend(rec.users_[:5], n=4))


def test_the_ranking_metrics():
    relevant = sp.csr_matrix(np.array([[1, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]))
    ranked = top_n(np.array([[4.0, 3, 2, 1], [1, 2, 3, 4], [1, 1, 1, 1]]), 2)
    np.testing.assert_array_equal(ranked[:2], [[0, 1], [3, 2]])
    # Row 0: 1 hit of 2 relevant in the top 2; row 1: 1 of 1; row 2 has none.
    assert recall_at_k(ranked, relevant, 2) == pytest.approx(0.75)
    assert ndcg_at_k(ranked, relevant, 2) == pytest.approx(
        (1 / (1 + 1 / np.log2(3)) + 1) / 2)
    seen = sp.csr_matrix(np.array([[1, 0, 0, 0]]))
    assert top_n(np.array([[4.0, 3, 2, 1]]), 2, seen).tolist() == [[1, 2]]


_MEMORY_SCRIPT = PREAMBLE + textwrap.dedent("""
    import warnings
    import numpy as np
    warnings.simplefilter("ignore")
    from skae import AutoencoderRecommender
    from skae.datasets import synthetic_pairs

    pairs, ratings = synthetic_pairs(20_000, 5_000, 40_000, random_state=0)
    AutoencoderRecommender(4, hidden_layer_sizes=(8,), max_epochs=1).fit(pairs[:500],
                                                                         ratings[:500])
    with PeakAnon() as fit:
        rec = AutoencoderRecommender(8, hidden_layer_sizes=(16,), orientation="user",
                                     max_epochs=2, random_state=0).fit(pairs, ratings)
    with PeakAnon() as recommend:
        top = rec.recommend(np.arange(2000), n=10)
    print(fit.growth_kb / 1024, recommend.growth_kb / 1024, top.shape[0])
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_ratings_stay_sparse():
    # 20,000 x 5,000 users x items: dense float32 would be 400 MB, and the
    # mask beside it as much again.
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT], capture_output=True,
                         text=True, check=True, timeout=600)
    fit_mb, recommend_mb, rows = out.stdout.split()
    assert int(rows) == 2000
    # Measured: 57 MB for the fit, 110 MB for recommend (its scores and
    # network outputs for one batch of users at a time).
    assert float(fit_mb) < 120, fit_mb
    assert float(recommend_mb) < 200, recommend_mb


@pytest.mark.parametrize("feedback", ["ratings", "interactions"])
def test_onnx_scores_rows_as_recommend_folds_them_in(low_rank, feedback):
    onnxruntime = pytest.importorskip("onnxruntime")
    X_train, _, y_train, _ = low_rank
    rec = AutoencoderRecommender(**{**FAST, "max_epochs": 5}, orientation="user").fit(
        X_train, y_train if feedback == "ratings" else None)
    rows = np.full((2, len(rec.items_)), np.nan if feedback == "ratings" else 0, np.float32)
    rows[0, [1, 5, 9]] = [5, 1, 4] if feedback == "ratings" else 1
    rows[1, [2, 3]] = [2, 2] if feedback == "ratings" else 1
    session = onnxruntime.InferenceSession(skae.to_onnx(rec, rows).SerializeToString())
    scores = session.run(None, {"X": rows})[0]
    assert scores.shape == rows.shape and np.isfinite(scores).all()
    given = ~np.isnan(rows) & (rows != 0)
    history = [(user, rec.items_[j], rows[user, j])
               for user in (0, 1) for j in np.flatnonzero(given[user])]
    history = np.array(history, dtype=object)[:, :3 if feedback == "ratings" else 2]
    top = rec.recommend([0, 1], n=5, history=history)
    for user in (0, 1):
        unseen = np.where(np.isnan(rows[user]) | (rows[user] == 0), scores[user], -np.inf)
        np.testing.assert_array_equal(rec.items_[np.argsort(-unseen)[:5]], top[user])
    with pytest.raises(ValueError, match="rows of the"):
        skae.to_onnx(rec, rows[:, :3])


def test_verbose_prints_the_epochs_log(low_rank, capsys):
    X_train, _, y_train, _ = low_rank
    AutoencoderRecommender(**{**FAST, "max_epochs": 2}, verbose=1).fit(X_train, y_train)
    out = capsys.readouterr().out
    assert "epoch" in out and "train_loss" in out and "valid_loss" in out


def test_users_networks_interrupts_and_threads(low_rank, monkeypatch):
    from torch import nn

    from skae._net import AutoencoderNet

    X_train, X_test, y_train, _ = low_rank
    rec = AutoencoderRecommender(
        **{**FAST, "max_epochs": 3},
        encoder=lambda n_inputs, latent: nn.Sequential(nn.Linear(n_inputs, latent), nn.Tanh()),
        decoder=lambda n_features, latent: nn.Linear(latent, n_features)).fit(X_train, y_train)
    assert rec.net_.module_.user_parts == {"encoder_body", "decoder"}
    # Ratings: the user's encoder reads the values and the mask, twice the row.
    assert rec.net_.module_.encoder_body[0].in_features == 2 * len(rec.users_)
    assert np.isfinite(rec.predict(X_test)).all()

    # Two fits in threads give what each gives alone.
    results = [None, None]

    def fit(k):
        results[k] = AutoencoderRecommender(**FAST).fit(X_train, y_train).predict(X_test)

    workers = [threading.Thread(target=fit, args=(k,)) for k in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    alone = AutoencoderRecommender(**FAST).fit(X_train, y_train).predict(X_test)
    for result in results:
        np.testing.assert_array_equal(result, alone)

    # Ctrl-C in a re-fit leaves the fitted model as it was.
    rec = AutoencoderRecommender(**FAST).fit(X_train, y_train)
    before = rec.predict(X_test)
    original, calls = AutoencoderNet.train_step, {"n": 0}

    def train_step(self, batch, **fit_params):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, batch, **fit_params)

    monkeypatch.setattr(AutoencoderNet, "train_step", train_step)
    with pytest.raises(KeyboardInterrupt):
        rec.fit(X_train[::-1], y_train[::-1])
    np.testing.assert_array_equal(rec.predict(X_test), before)

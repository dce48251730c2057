"""Tables of numeric, boolean and categorical columns, with holes, in every
estimator: kinds, encoding, the loss per column, the user's schema back."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch

import skae
from skae import (
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    VAETransformer,
)
from skae._table import Schema

penguins = pytest.importorskip("palmerpenguins")

FAST = dict(max_epochs=3, hidden_layer_sizes=(16,), random_state=0)


@pytest.fixture(scope="module")
def table():
    """Palmer penguins with a boolean column: strings, numbers, booleans
    and real holes (344 rows)."""
    frame = penguins.load_penguins()
    frame["heavy"] = frame["body_mass_g"] > 4200  # a boolean column
    frame.loc[frame["body_mass_g"].isna(), "heavy"] = False
    frame["heavy"] = frame["heavy"].astype(bool)
    return frame


@pytest.fixture(scope="module")
def complete(table):
    return table.dropna().reset_index(drop=True)


def test_kinds_come_from_dtypes_or_categorical_features(table):
    schema = Schema.infer(table)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {"species": "categorical", "island": "categorical",
                     "bill_length_mm": "numeric", "bill_depth_mm": "numeric",
                     "flipper_length_mm": "numeric", "body_mass_g": "numeric",
                     "sex": "categorical", "year": "numeric", "heavy": "boolean"}
    assert schema.columns[0].categories == ("Adelie", "Chinstrap", "Gentoo")
    # Integer codes made categorical by name, position or mask.
    for chosen in (["year"], [7], [c == "year" for c in table.columns]):
        column = Schema.infer(table, chosen).columns[7]
        assert column.kind == "categorical" and column.categories == (2007, 2008, 2009)
    # Numbers alone: no schema, skae's numeric path.
    assert Schema.infer(table.select_dtypes("number")) is None


def test_encoding_one_hot_groups_holes_and_unseen_categories(table):
    schema = Schema.infer(table)
    encoded = schema.encode(table)
    assert encoded.shape == (344, 3 + 3 + 4 + 2 + 1 + 1) and encoded.dtype == np.float32
    species = encoded[:, :3]
    assert (species.sum(axis=1) == 1).all()
    sex = encoded[:, 10:12]  # NaN over the whole group where sex is missing
    assert np.isnan(sex[table["sex"].isna().to_numpy()]).all()
    new = table.iloc[:2].copy()
    new["island"] = ["Atlantis", "Dream"]
    with pytest.warns(UserWarning, match="Atlantis"):
        unseen = schema.encode(new)
    assert (unseen[0, 3:6] == 0).all() and unseen[1, 3:6].sum() == 1


@pytest.mark.parametrize("Est", [AutoencoderTransformer, VAETransformer])
def test_round_trip_gives_the_users_schema(Est, complete):
    model = Est(2, **FAST).fit(complete)
    assert model.n_features_in_ == 9
    assert list(model.feature_names_in_) == list(complete.columns)
    codes = model.transform(complete)
    assert codes.shape == (len(complete), 2) and np.isfinite(codes).all()
    back = model.inverse_transform(codes)
    assert isinstance(back, pd.DataFrame) and list(back.columns) == list(complete.columns)
    for column in ("species", "island", "sex"):
        assert str(back[column].dtype) == str(complete[column].dtype)
        assert set(back[column]) <= set(complete[column])
    # Every column in its dtype: integers (year) rounded, floats as they are.
    assert back.dtypes.astype(str).to_dict() == complete.dtypes.astype(str).to_dict()
    assert set(back["year"]) <= set(range(2000, 2020))
    # One error per column: squared error of numbers, cross-entropy of the rest.
    errors = model.feature_errors(complete.iloc[:5])
    assert errors.shape == (5, 9) and np.isfinite(errors).all() and (errors >= 0).all()
    assert np.isfinite(model.score_samples(complete)).all()


def test_save_load_and_pickle_keep_the_schema(complete, tmp_path):
    model = AutoencoderTransformer(2, **FAST).fit(complete)
    skae.save(model, tmp_path / "m.skae")
    for loaded in (skae.load(tmp_path / "m.skae"), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(loaded.transform(complete), model.transform(complete))
        back, again = (m.inverse_transform(model.transform(complete)) for m in (model, loaded))
        pd.testing.assert_frame_equal(back, again)


def test_object_arrays_and_set_output(complete):
    values = complete.to_numpy(dtype=object)
    model = AutoencoderTransformer(2, **FAST).fit(values)
    assert model._schema.columns[0].kind == "categorical"
    assert isinstance(model.inverse_transform(model.transform(values)), np.ndarray)
    model.set_output(transform="pandas")
    assert isinstance(model.inverse_transform(model.transform(values)), pd.DataFrame)


def test_polars_in_polars_out(complete, tmp_path):
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({name: complete[name].tolist() for name in complete.columns})
    frame = frame.with_columns(  # polars' own kinds of columns, restored at the end
        pl.col("species").cast(pl.Enum(["Gentoo", "Chinstrap", "Adelie"])),
        pl.col("island").cast(pl.Categorical), pl.col("year").cast(pl.Int16),
        pl.col("bill_depth_mm").cast(pl.Float32))
    model = AutoencoderTransformer(2, **FAST).fit(frame)
    back = model.inverse_transform(model.transform(frame))
    assert isinstance(back, pl.DataFrame) and back.schema == frame.schema  # Enum's order too
    skae.save(model, tmp_path / "model.skae")
    loaded = skae.load(tmp_path / "model.skae")
    assert loaded.inverse_transform(loaded.transform(frame)).schema == frame.schema
    holes = frame.with_columns(pl.when(pl.int_range(pl.len()) % 5 == 0).then(None)
                               .otherwise(pl.col(c)).alias(c) for c in ("species", "year"))
    filled = AutoencoderImputer(**FAST).fit_transform(holes)
    assert filled.schema == frame.schema and filled.null_count().sum_horizontal().item() == 0
    dates = frame.with_columns(pl.date(2008, 11, 1).alias("seen"))
    with pytest.raises(TypeError, match="'seen' has dtype Date.*convert it"):
        AutoencoderTransformer(2, **FAST).fit(dates)


def test_bad_tables_give_clear_errors(table, complete):
    with pytest.raises(ValueError, match="(?s)NaN.*AutoencoderImputer"):
        AutoencoderTransformer(2, **FAST).fit(table)
    one_level = complete.assign(species="Adelie")
    with pytest.raises(ValueError, match="'species' has 1 category"):
        AutoencoderTransformer(2, **FAST).fit(one_level)
    empty = complete.assign(sex=None)
    with pytest.raises(ValueError, match="'sex' has 0 category"):
        AutoencoderImputer(**FAST).fit(empty)
    mixed = complete.assign(island=["a", 1] * (len(complete) // 2) + ["a"] * (len(complete) % 2))
    with pytest.raises(ValueError, match="'island' mixes values of types"):
        AutoencoderTransformer(2, **FAST).fit(mixed)
    with pytest.raises(ValueError, match="loss='mse'"):
        AutoencoderTransformer(2, loss="bce", **FAST).fit(complete)
    model = AutoencoderTransformer(2, **FAST).fit(complete)
    with pytest.raises(ValueError, match="Feature names"):
        model.transform(complete.iloc[:, :5])
    with pytest.raises(ValueError, match="not numbers"):
        model.transform(complete.assign(year="late"))
    dates = complete.assign(seen=pd.Timestamp("2008-11-01")
                            + pd.to_timedelta(complete["year"] - 2007, unit="D"))
    for frame in (dates, dates.drop(columns=["species", "island", "sex"])):  # a table; numbers
        with pytest.raises(TypeError, match="'seen' has dtype datetime64.*convert it"):
            AutoencoderTransformer(2, **FAST).fit(frame)
    with pytest.raises(TypeError, match="'island' holds a list: the argument must be a string"):
        AutoencoderTransformer(2, **FAST).fit(complete.assign(island=[["a"]] * len(complete)))
    with pytest.raises(TypeError, match="'gap' has dtype timedelta64"):
        AutoencoderImputer(**FAST).fit(complete.assign(gap=pd.to_timedelta(complete["year"],
                                                                            unit="s")))


def test_imputer_fills_categories_with_the_most_probable(table):
    imputer = AutoencoderImputer(latent_dim=16, **FAST).fit(table)
    filled = imputer.transform(table)
    assert isinstance(filled, pd.DataFrame) and not filled.isna().any().any()
    observed = table.notna()
    for column in table.columns:  # observed entries come back as they were
        assert (filled[column][observed[column]] == table[column][observed[column]]).all()
    probabilities = imputer.impute_proba(table)
    assert set(probabilities) == {"species", "island", "sex"}
    sex = probabilities["sex"]
    np.testing.assert_allclose(sex.sum(axis=1), 1, rtol=1e-5)
    holes = table["sex"].isna().to_numpy()
    best = np.asarray(imputer._schema.columns[6].categories)[sex[holes].argmax(axis=1)]
    assert (filled["sex"][holes] == best).all()
    with_indicator = AutoencoderImputer(latent_dim=16, add_indicator=True, **FAST).fit(table)
    assert list(with_indicator.transform(table).columns[-2:]) == [
        "missingindicator_body_mass_g", "missingindicator_sex"]


def test_detector_on_a_table_scores_and_names_columns(complete):
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(2, **FAST)).fit(complete)
    assert set(detector.predict(complete)) <= {-1, 1}
    assert detector.feature_errors(complete.iloc[:3]).shape == (3, 9)


def test_repair_names_the_column_the_others_contradict():
    """A category the numbers determine, swapped, and a number far out: the
    repair names the planted column in each planted row."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=600)
    frame = pd.DataFrame({"a": a, "b": a + 0.1 * rng.normal(size=600),
                          "c": -a + 0.1 * rng.normal(size=600),
                          "side": np.where(a > 0, "right", "left"),
                          "flag": rng.random(600) < 0.5})
    detector = AutoencoderOutlierDetector(AutoencoderTransformer(
        1, hidden_layer_sizes=(32,), max_epochs=60, random_state=0)).fit(frame)
    test = frame.iloc[:40].copy()
    swapped = np.abs(test["a"].to_numpy()) > 0.5  # clearly on one side
    test.loc[swapped, "side"] = np.where(test.loc[swapped, "side"] == "left", "right", "left")
    test.loc[~swapped, "b"] = test.loc[~swapped, "b"] + 6.0
    planted = np.where(swapped, 3, 1)  # "side" or "b"
    repair = detector.feature_errors(test, method="repair")
    assert repair.shape == (40, 5)
    assert np.mean(repair.argmax(axis=1) == planted) >= 0.95


def test_a_categorys_repair_is_its_best_value(complete):
    """method="repair" on a category or boolean, from its definition through
    the public API: the fall of the row's total error when the column takes
    whichever of its values makes that error least."""
    model = AutoencoderTransformer(2, **FAST).fit(complete)
    rows = complete.iloc[:10]
    repair = model.feature_errors(rows, method="repair")
    total = model.feature_errors(rows).sum(axis=1)
    for column, values in (("island", ["Biscoe", "Dream", "Torgersen"]),
                           ("heavy", [False, True])):
        tried = [model.feature_errors(rows.assign(**{column: value})).sum(axis=1)
                 for value in values]
        expected = total - np.min(tried, axis=0)
        j = list(complete.columns).index(column)
        np.testing.assert_allclose(repair[:, j], expected, rtol=1e-4, atol=1e-5)
        assert (repair[:, j] >= -1e-5).all()  # its own value is among those tried


def test_the_table_loss_is_each_columns_own():
    """One object knows each column's part: squared error, binary and
    categorical cross-entropy; missing entries count nothing and pass no
    NaN to the gradient."""
    import torch

    from skae._loss import get_loss

    loss = get_loss([["categorical", 0, 3], ["numeric", 3, 4], ["boolean", 4, 5]])
    raw = torch.tensor([[2.0, 0.0, -1.0, 0.5, 1.5], [0.0, 1.0, 0.0, -1.0, -2.0]],
                       requires_grad=True)
    target = torch.tensor([[0.0, 1.0, 0.0, 1.5, 1.0], [float("nan")] * 3 + [0.0, float("nan")]])
    per_column = loss.per_column(raw, target)
    expected_ce = -torch.log_softmax(raw[0, :3], -1)[1]
    expected_bce = torch.nn.functional.binary_cross_entropy_with_logits(raw[0, 4], target[0, 4])
    torch.testing.assert_close(per_column[0], torch.stack(
        [expected_ce, torch.tensor(1.0), expected_bce]).detach())
    assert torch.isnan(per_column[1, [0, 2]]).all() and per_column[1, 1] == 1.0
    masked = loss.masked_mean(raw, target)
    torch.testing.assert_close(masked, (per_column[0].sum() + 1.0) / 4)
    masked.backward()
    assert torch.isfinite(raw.grad).all() and (raw.grad[1, [0, 1, 2, 4]] == 0).all()
    # The link: softmax over a group, sigmoid of a boolean, numbers as they are.
    linked = loss.link(raw.detach())
    torch.testing.assert_close(linked[:, :3].sum(-1), torch.ones(2))
    assert linked[0, 3] == 0.5 and 0 < linked[0, 4] < 1


def test_unseen_categories_at_transform_warn_and_still_give_codes(complete):
    model = AutoencoderTransformer(2, **FAST).fit(complete)
    new = complete.iloc[:3].assign(island=["Atlantis", "Dream", "Biscoe"])
    with pytest.warns(UserWarning, match="Atlantis"):
        codes = model.transform(new)
    assert np.isfinite(codes).all()


def test_users_networks_on_a_table_leave_one_hot_and_boolean_columns_unscaled(complete):
    # The internal space is one decision: numbers share one scale, one-hot
    # and boolean columns keep their 0/1 values, whatever the network.
    from networks import TanhEncoder

    frame = complete.sample(60, random_state=0)
    built_in = AutoencoderTransformer(2, **FAST).fit(frame)
    users = AutoencoderTransformer(2, encoder=TanhEncoder, **FAST).fit(frame)
    scale = built_in.net_.module_.scale
    numeric = torch.as_tensor(built_in._schema.numeric_mask())
    assert torch.all(scale[~numeric] == 1) and torch.all(scale[numeric] == scale[numeric][0])
    torch.testing.assert_close(users.net_.module_.scale, scale)

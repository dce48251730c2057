"""AutoencoderRecommender: ratings predicted and items ranked by an
autoencoder over the rating vectors (AutoRec, Mult-DAE)."""

from numbers import Real

import numpy as np
import torch
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names, check_is_fitted

from ._base import _BaseAutoencoder
from ._batches import map_batches
from ._checks import extend_init
from ._docstrings import fill_docstring
from ._inference import inference_batch_size, predict_entries
from ._linear_start import LinearStart
from ._loss import LOSSES
from ._modules import AutoencoderModule
from ._net import AutoencoderNet
from ._networks import ACTIVATIONS
from ._onnx_graphs import RecommenderOnnx
from ._ranking import top_items
from ._ratings import Ratings, validate_pairs


@fill_docstring
class AutoencoderRecommender(RegressorMixin, RecommenderOnnx, _BaseAutoencoder):
    """Recommendation by an autoencoder over rating vectors.

    ``fit(X, y)`` takes (user, item) pairs and their ratings, as a
    regressor does: :meth:`predict` gives the rating of any pair, and
    ``cross_val_score`` and ``GridSearchCV`` work as for any regressor.
    ``fit(X)`` with no ``y`` takes implicit feedback: each pair is an
    interaction (a view, a click, a purchase). :meth:`recommend` gives each
    user's top items not already seen, also for a user not seen at fit,
    from that user's history.

    The ratings stay a sparse matrix, densified a batch of rows at a time:
    memory grows with the number of ratings, not users x items.

    * **Ratings** (explicit feedback): each row of the matrix, an item's
      ratings by all users (``orientation="item"``, I-AutoRec, Sedhain et
      al. 2015) or a user's of all items, is read with its holes, as
      :class:`AutoencoderImputer` reads rows: the network sees the observed
      ratings and the mask of which are observed, and the loss is the
      squared error on the observed ratings only. The network models the
      ratings less the baseline predictors (the global mean and damped
      user and item biases, Koren 2010), which :meth:`predict` adds back;
      predictions are clipped to the range of the ratings seen at fit.
    * **Interactions** (implicit feedback): each user's row of 0/1 over
      the items, decoded by a softmax over the items and trained on the
      multinomial likelihood (``loss="multinomial"``), with a fraction
      ``noise`` of each row's interactions hidden at each step (Mult-DAE,
      Liang et al. 2018).

    The default network is the one layer of AutoRec and Mult-DAE: a code of
    300 units between the row and its reconstruction (the code passes
    through the activation), no linear path, and a strong weight decay (3)
    against memorizing the few ratings of each row; of ratings, the
    untrained network predicts the baseline.

    Pairs of a user or an item not seen at fit are predicted by the
    baseline of what is known: the item's bias for a new user, the user's
    for a new item, the global mean for both (for interactions, an item's
    share of all interactions for a new user, 0 for a new item).

    Parameters
    ----------
    {network}
    activation : str, default="auto"
        Nonlinearity of the code (and of any hidden layer), as the
        transformers' ``activation``, or ``"auto"``: ``"sigmoid"`` for
        ratings (AutoRec's: RMSE 0.894 against tanh's 0.917 and relu's
        0.923 on the first of MovieLens-100K's five folds), ``"tanh"`` for
        interactions (Mult-DAE's: sigmoid ranked worse).

    loss : {"auto", "mse", "bce", "multinomial"}, default="auto"
        ``"auto"``: the squared error for ratings, the multinomial
        likelihood for interactions.

    {training}
    patience : int, default=10
        Early stopping holds out a tenth of the ratings, or of each user's
        interactions (judged among the items the user has not interacted
        with, as :meth:`recommend` ranks them), and stops after ``patience``
        epochs without improvement, or the epochs of 30,000 rows if more.

    lr : float or "auto", default="auto"
        Learning rate. ``"auto"``: 3e-4 for ratings, 1e-3 for interactions
        (on MovieLens-100K ratings were predicted better at 3e-4 than at
        1e-3, and interactions ranked as well at 1e-3 in 2.5 times fewer
        epochs).

    orientation : {"auto", "item", "user"}, default="auto"
        A row of the matrix is an item's ratings by every user, or a user's
        of every item. ``"auto"``: items for ratings (as I-AutoRec; user
        rows predicted worse), users for interactions. Folding in new users
        (:meth:`recommend`'s ``history``) needs user rows.

    noise : float or "auto", default="auto"
        Fraction of a row's observed entries hidden at each training step
        (in [0, 1)). ``"auto"``: 0.1 for ratings (0 was level, 0.2 and
        0.5 worse), 0.3 for interactions (0.5 and 0.65 ranked worse).

    damping : float, default=10.0
        Shrinkage of the user and item biases of ratings: each is
        estimated as if it had ``damping`` more ratings at the mean.

    categorical_features : "from_dtype" or array-like, default="from_dtype"
        Not used (pairs are ids, not a table): every skae estimator has it.

    Attributes
    ----------
    {trained}
    validation_loss_curve_ : ndarray of shape (n_epochs,) or None
        Validation loss of each epoch: the squared error of the held-out
        ratings (less their baseline), or the negative log-likelihood of the
        held-out interactions among the items not kept; None without early
        stopping.
    users_, items_ : ndarray of shape (n_users,), (n_items,)
        The user and item ids seen at fit.
    feedback_ : {"explicit", "implicit"}
        Whether ``fit`` had ratings (``y``) or interactions.
    orientation_ : {"item", "user"}
        What a row of the matrix is.
    global_mean_ : float
        Mean rating at fit (0 for interactions).
    user_bias_, item_bias_ : ndarray of shape (n_users,), (n_items,)
        Each user's and item's damped bias (for interactions, zeros, and each
        item's share of all interactions).
    rating_range_ : tuple of float
        The lowest and highest rating at fit; predictions are clipped to it.
    n_features_in_ : int
        2: a user and an item.
    feature_names_in_ : ndarray of shape (2,)
        The names of the pairs' columns, when X is a DataFrame with string
        column names.

    See Also
    --------
    AutoencoderImputer : Holes of a dense table filled.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderRecommender
    >>> rng = np.random.default_rng(0)
    >>> users, items = rng.integers(0, 50, 2000), rng.integers(0, 40, 2000)
    >>> ratings = np.clip(np.round(3 + (users % 5 - items % 5) / 2), 1, 5)
    >>> pairs = np.column_stack([users, items])
    >>> rec = AutoencoderRecommender(max_epochs=20, random_state=0).fit(pairs, ratings)
    >>> rec.predict([[0, 1], [3, 2]]).shape
    (2,)
    >>> rec.recommend([0, 1], n=3).shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        **_BaseAutoencoder._parameter_constraints,
        "loss": [StrOptions(set(LOSSES) | {"auto"})],
        "orientation": [StrOptions({"auto", "item", "user"})],
        "noise": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
        "activation": [StrOptions(set(ACTIVATIONS) | {"auto"})],
        "damping": [Interval(Real, 0, None, closed="left")],
    }

    __init__ = extend_init(
        _BaseAutoencoder.__init__,
        defaults=dict(latent_dim=300, hidden_layer_sizes=(), activation="auto", loss="auto",
                      max_epochs=300, lr_schedule="constant", weight_decay=3.0,
                      patience=10),
        orientation="auto", noise="auto", damping=10.0)

    #: AutoRec's network alone: with a linear path, ratings were predicted worse
    #: (RMSE 0.907, 0.909 against 0.894-0.897, seeds 0-2, MovieLens-100K fold 1).
    _code_activation, _linear_path = True, False
    _patience_rows = 30_000  # from the baseline, a fit can stay level a few hundred steps
    #: What "auto" means for ratings and for interactions (see the parameters).
    _AUTO = {"explicit": dict(lr=3e-4, noise=0.1, activation="sigmoid", loss="mse",
                              orientation="item"),
             "implicit": dict(lr=1e-3, noise=0.3, activation="tanh", loss="multinomial",
                              orientation="user")}

    #: Ratings are rows with holes, interactions complete rows of 0/1; the
    #: zero start is the ratings' (uniform logits ranked interactions worse:
    #: Recall@20 0.392-0.395, not 0.396-0.401).
    _imputes = _zero_start = property(
        lambda self: getattr(self, "feedback_", "explicit") == "explicit")

    # ------------------------------------------------------------- the hooks
    def _setting(self, name):
        """Parameter ``name``, "auto" resolved for this fit's feedback."""
        value = getattr(self, name)
        return self._AUTO[self.feedback_][name] if value == "auto" else value

    def _build_net(self, module_kwargs, policy):
        module_kwargs = {**module_kwargs, "module__activation": self._setting("activation")}
        policy = {**policy, "lr": self._setting("lr")}
        return AutoencoderNet(AutoencoderModule, **module_kwargs, noise=self._setting("noise"),
                              corruption="masking",
                              unstored=np.nan if self._imputes else 0.0, **policy)

    def _holdout(self):  # ratings, or interactions per user: every row trains
        return "entries"

    def _loss_spec(self):
        return self._setting("loss")

    _table_schema = staticmethod(lambda X: None)  # pairs are no table

    def _training_rows(self, X, reset):  # the ratings matrix fit built from the pairs
        return X

    def _linear_start(self, X, module, seed, width):
        """The data's own space (ratings less their baseline are centred)."""
        return LinearStart(np.zeros(X.shape[1]), 1.0)

    # --------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train on (user, item) pairs and their ratings, or interactions.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_pairs, 2)
            The pairs: users in the first column, items in the second (ids
            of any hashable kind). A pair given twice keeps its last rating.

        y : array-like of shape (n_pairs,), default=None
            The ratings. None: implicit feedback, each pair an interaction.

        Returns
        -------
        self : object
            Fitted recommender.
        """
        with self._unchanged_on_failure(), torch.inference_mode(False), torch.enable_grad():
            self._fit(self._ratings_of(X, y))
        return self

    def _ratings_of(self, X, y):
        """Read the pairs, keep their :class:`~skae._ratings.Ratings` and
        return the matrix the network trains on."""
        if self.architecture != "mlp":
            raise ValueError("AutoencoderRecommender reads rating vectors: "
                             f"architecture='mlp' only; got {self.architecture!r}.")
        users, items, ratings = validate_pairs(X, y)
        if ratings is not None and self.loss not in ("auto", "mse"):
            raise ValueError(f"Ratings train with loss='mse' (or 'auto'); got {self.loss!r}, "
                             "a loss for interactions: fit(pairs) without y.")
        _check_feature_names(self, X, reset=True)
        self.n_features_in_ = 2
        self.feedback_ = "implicit" if ratings is None else "explicit"
        self._set_ratings(Ratings(users, items, ratings, self._setting("orientation"),
                                  self.damping))
        return self._data.matrix

    def _set_ratings(self, data):
        """Keep ``data`` and set the fitted attributes it holds."""
        self._data = data
        self.users_, self.items_ = data.users.ids, data.items.ids
        self.feedback_ = "explicit" if data.explicit else "implicit"
        self.orientation_ = data.orientation
        self.global_mean_, self.user_bias_, self.item_bias_ = (
            data.mean, data.user_bias, data.item_bias)
        self.rating_range_ = data.range

    def partial_fit(self, X, y=None):
        """Not supported: new ratings change the users, items and rows.

        Parameters
        ----------
        X, y : ignored
            Any call raises :class:`NotImplementedError`; fit again on all
            the ratings.
        """
        raise NotImplementedError(
            "AutoencoderRecommender has no partial_fit: new ratings change its users, items "
            "and rows; fit it again on all the ratings.")

    # ------------------------------------------------------------- inference
    def _positions(self, X):
        """The positions of the pairs' users and items (-1: not seen)."""
        check_is_fitted(self)
        users, items, _ = validate_pairs(X)
        _check_feature_names(self, X, reset=False)
        return self._data.users.positions(users), self._data.items.positions(items)

    def _row_predictions(self, matrix, rows, columns=None, scores=predict_entries):
        """``scores`` (the network's predictions, data units) of rows ``rows``
        of ``matrix``, all their columns or ``columns`` of them, in batches."""
        fn = scores if columns is None else (lambda module, x: scores(module, x)[:, columns])
        return map_batches(self.net_, fn, matrix[rows], np.float32,
                           inference_batch_size(matrix.shape[1]), unstored=self.net_.unstored)

    def predict(self, X):
        """Rating (or, for interactions, score) of each (user, item) pair.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_pairs, 2)
            The pairs: users, then items.

        Returns
        -------
        y_pred : ndarray of shape (n_pairs,)
            Predicted ratings, clipped to :attr:`rating_range_`; for
            interactions, the probability the model gives the item among
            the user's. A user or item not seen at fit gets the baseline of
            what is known (see the class description).
        """
        u, i = self._positions(X)
        pred = self._data.baseline(u, i)
        known = (u >= 0) & (i >= 0)
        if known.any():
            rows, columns = (i, u) if self.orientation_ == "item" else (u, i)
            rows, columns = rows[known], columns[known]
            unique, where = np.unique(rows, return_inverse=True)
            size = inference_batch_size(self._data.matrix.shape[1])
            order = np.argsort(where, kind="stable")  # each batch of rows finds its pairs
            bounds = np.searchsorted(where[order], np.arange(0, len(unique) + size, size))
            values = np.empty(len(rows))
            for batch, start in enumerate(range(0, len(unique), size)):
                at = order[bounds[batch]:bounds[batch + 1]]
                block = self._row_predictions(self._data.matrix, unique[start:start + size])
                values[at] = block[where[at] - start, columns[at]]
            pred[known] += values
        return np.clip(pred, *self.rating_range_)

    def recommend(self, users, n=10, *, history=None, exclude_seen=True):
        """Each user's ``n`` best items, best first.

        Parameters
        ----------
        users : array-like of shape (n_users,)
            User ids: seen at fit, or found in ``history``.

        n : int, default=10
            Items per user.

        history : DataFrame or array-like of shape (n_pairs, 2) or (n_pairs, 3), default=None
            Pairs (user, item), and for ratings their ratings, of users to
            fold in, each from these pairs alone, without refitting (needs
            user rows; a user in the history is read from it).

        exclude_seen : bool, default=True
            Leave out the items each user has rated or interacted with.

        Returns
        -------
        items : ndarray of shape (n_users, n)
            Item ids. A user neither seen at fit nor in ``history`` gets
            the items of highest bias (ratings) or most interactions.
        """
        check_is_fitted(self)
        users = np.asarray(users, dtype=object if isinstance(users, list | tuple) else None)
        if users.ndim != 1:
            raise ValueError(f"users must be a 1-D array of user ids; got shape {users.shape}.")
        if int(n) < 1:
            raise ValueError(f"n must be a positive integer; got {n}.")
        u = self._data.users.positions(users)
        folded, rows = np.zeros(len(users), dtype=bool), None
        if history is not None:
            folded, rows = self._data.fold_in(users, history)
        known, scores = (u >= 0) & ~folded, self._row_scores()
        matrix, table = self._data.matrix, None
        # Item rows: every item's row once, at these users; then a batch of
        # users at a time (memory bounded by the batch's scores).
        if self.orientation_ == "item" and known.any():
            seen_users = np.unique(u[known])
            table = self._row_predictions(matrix, np.arange(matrix.shape[0]), seen_users).T
        out = np.empty((len(users), min(int(n), len(self.items_))), dtype=np.int64)
        for start in range(0, len(users), size := inference_batch_size(len(self.items_))):
            here = slice(start, start + size)
            k, f = known[here], folded[here]
            networks = np.zeros((len(k), len(self.items_)), dtype=np.float32)
            if f.any():  # histories as given, scored as the ONNX graph scores them
                networks[f] = self._row_predictions(rows[here], np.flatnonzero(f), None, scores)
            if k.any():  # ratings: the correction plus the item's bias
                networks[k] = (self._row_predictions(matrix, u[here][k]) if table is None
                               else table[np.searchsorted(seen_users, u[here][k])]) + (
                    self.item_bias_.astype(np.float32) if self._imputes else 0.0)
            out[here] = top_items(self._data, networks, u[here], f,
                                  None if rows is None else rows[here], int(n), exclude_seen)
        return self.items_[out]

    # ----------------------------------------------------- saving (skae.save)
    def _fitted_state(self):
        return self._data.state()

    def _restore_fitted_state(self, state):
        self._set_ratings(Ratings.from_state(state))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.two_d_array = True
        tags.input_tags.string = True
        return tags

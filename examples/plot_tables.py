"""
A table of numbers and categories
=================================

Palmer penguins (from the ``palmerpenguins`` package: ``pip install
palmerpenguins``, or skae's ``bench`` or ``docs`` extra) has four
measurements, a year, and three categorical columns (species, island, sex)
with a few holes. Every skae estimator takes the DataFrame as it is, with no
``ColumnTransformer``: categories are one-hot groups that the network
predicts with a softmax, numbers share one scale.

Here one autoencoder maps the penguins to two dimensions and gives the table
back, and the imputer fills the holes, categories included (the guide's
:doc:`Tables <../guide/tables>` page shows the detector on the same table).
"""

import matplotlib.pyplot as plt
from palmerpenguins import load_penguins

from skae import AutoencoderImputer, AutoencoderTransformer

raw = load_penguins()
print(raw.dtypes.to_string())

# %%
# skae puts numbers on one common scale, as PCA on raw data does: body mass
# in grams would outweigh bills in millimetres. Standardize the numbers first
# when each should count alike (the categories need nothing).
numbers = raw.select_dtypes("number").columns
raw[numbers] = (raw[numbers] - raw[numbers].mean()) / raw[numbers].std()
penguins = raw.dropna()

# %%
# Two dimensions, and the table back
# ----------------------------------
# ``inverse_transform`` returns a DataFrame with the same columns, dtypes and
# categories: the most probable category of each categorical column.
ae = AutoencoderTransformer(latent_dim=2, random_state=0).fit(penguins)
codes = ae.transform(penguins)
back = ae.inverse_transform(codes)
print(back.head(3).to_string())
for column in ("species", "island", "sex"):
    same = back[column].to_numpy() == penguins[column].to_numpy()
    print(f"{column}: {same.mean():.0%} given back")

fig, ax = plt.subplots(figsize=(5, 4))
for species, group in penguins.groupby("species"):
    rows = penguins.index.get_indexer(group.index)
    ax.scatter(codes[rows, 0], codes[rows, 1], s=8, label=species)
ax.set(xlabel="code 1", ylabel="code 2", title="Palmer penguins in two dimensions")
ax.legend()
fig.tight_layout()

# %%
# Holes filled, categories included
# ---------------------------------
imputer = AutoencoderImputer(random_state=0).fit(raw)
filled = imputer.transform(raw)
print("holes before:", int(raw.isna().sum().sum()), "after:", int(filled.isna().sum().sum()))
print(imputer.impute_proba(raw)["sex"][raw["sex"].isna().to_numpy()][:3].round(2))

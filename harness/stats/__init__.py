"""Every interval, paired test and resampling in bench; numpy, scipy and statsmodels only.

Modules, each with one job:
    policy      the one confidence level (95%) and the one resampling policy (4,000 resamples, seeded generators)
    additive    metrics written as per-item additive parts (macro-F1, means), so a resample is one matrix product
    resampling  bootstrap weights and indices, permutation swap masks, percentile ends
    intervals   a metric's interval (Wilson; Wilson at an effective n for non-shares) and a paired difference's
    paired      the gate's one-sided paired tests and floors (McNemar, Tango, permutation, bootstrap)
"""

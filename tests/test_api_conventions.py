"""API conventions (issue 16, item 6): generated option docs, Raises sections, parameter names in
messages, "did you mean" suggestions, hashable group labels and the scikit-learn estimator protocol.

Oracles: the objective declarations themselves (:mod:`kssl_theory.kernel_regime.objectives`: every
declared option, its kind and default), the signatures of the public functions, and scikit-learn's
own conformance suite (:func:`sklearn.utils.estimator_checks.parametrize_with_checks`).
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

import kssl_theory as kt
from kssl_theory import errors
from kssl_theory.errors import InputError
from kssl_theory.kernel_regime import engine, estimator, objectives
from kssl_theory.kernel_regime.estimator import SKLEARN_EXPECTED_FAILED_CHECKS, KernelSSL
from kssl_theory.validation import check_choice, close_matches, encode_labels

SKLEARN_VERSION = tuple(int(p) for p in re.findall(r"\d+", sklearn.__version__)[:2])

RANGES = {"nonnegative": "float >= 0", "positive": "float > 0", "bool": "bool"}


def _views(n=5, m=3, seed=0):
    rng = np.random.default_rng(seed)
    X = np.repeat(rng.normal(size=(n, 3)), m, axis=0) + 0.2 * rng.normal(size=(n * m, 3))
    return X, np.repeat(np.arange(n), m)


def _section(doc: str, title: str) -> str:
    """The body of a numpydoc section of a cleaned docstring ('' when absent)."""
    lines = inspect.cleandoc(doc).splitlines()
    for i in range(len(lines) - 1):
        if lines[i].strip() == title and set(lines[i + 1].strip()) == {"-"}:
            body = []
            for j in range(i + 2, len(lines)):
                if j + 1 < len(lines) and lines[j + 1].strip() and set(lines[j + 1].strip()) == {"-"}:
                    break
                body.append(lines[j])
            return "\n".join(body)
    return ""


BUILT_IN = [objectives.OBJECTIVES[name] for name in ("contrastive", "vicreg", "laplacian_eigenmaps", "whitened")]


# --- 1. docstrings: options generated from the declarations, methods, Raises ------------------------


@pytest.mark.parametrize("function", [kt.solve, kt.loss], ids=["solve", "loss"])
@pytest.mark.parametrize("objective", BUILT_IN, ids=lambda o: o.name)
def test_every_declared_option_is_documented_with_range_and_default(function, objective):
    doc = function.__doc__
    assert f'``"{objective.name}"``' in doc
    for option in objective.options:
        entry = f"``{option.name}`` ({RANGES[option.kind]}, default ``{option.default!r}``"
        assert entry in doc, f"{function.__name__} does not document {objective.name}'s {option.name}"
        assert option.doc.rstrip(".") in doc  # the meaning and symbol, from the declaration


def test_estimator_documents_each_named_option_as_a_parameter():
    doc = KernelSSL.__doc__
    params = _section(doc, "Parameters")
    named = set(inspect.signature(KernelSSL).parameters)
    for name, default in objectives.built_in_option_defaults().items():
        assert name in named  # the estimator has a parameter for every built-in option
        kind = next(o.kind for obj in BUILT_IN for o in obj.options if o.name == name)
        assert f"{name} : {RANGES[kind]}, optional" in params
        entry = params.split(f"{name} : ", 1)[1].split("\n", 2)[1]
        assert f"declared default ``{default!r}``" in entry


def test_no_marker_is_left_and_the_generation_follows_the_declarations():
    for doc in (kt.solve.__doc__, kt.loss.__doc__, KernelSSL.__doc__):
        assert objectives.OPTIONS_MARKER not in doc and objectives.OPTION_PARAMETERS_MARKER not in doc
        assert "<expected failed checks>" not in doc
    # The text is generated, not copied: a made-up declaration shows up in the table.
    toy = objectives.Objective(
        "toy",
        ("T1",),
        "toy objective",
        (
            objectives.Variant(
                "toy",
                "toy",
                None,
                (objectives.Option("gamma", 0.25, "positive", r":math:`\gamma > 0`, a weight"),),
                "penalised",
                "psd-top",
                {},
                {},
            ),
        ),
    )
    assert '``"toy"`` (toy objective; aliases ``"T1"``)' in objectives.options_doc([toy])
    assert r"``gamma`` (float > 0, default ``0.25``): :math:`\gamma > 0`, a weight." in objectives.options_doc([toy])


def test_every_method_and_engine_option_is_documented():
    for method in engine.METHODS:
        assert f'"{method}"' in _section(kt.solve.__doc__, "Parameters").split("method :")[1].split("\n")[0]
        assert f'"{method}"' in _section(KernelSSL.__doc__, "Parameters").split("method :")[1].split("\n")[0]
    params = _section(kt.solve.__doc__, "Parameters")
    assert "``kernel_rtol`` (float in [0, 1), default ``None``" in params
    assert "``tie_rtol`` (float >= 0, default ``None``" in params


RAISES = {
    "solve": (kt, "solve", {"InputError", "NumericalError"}),
    "loss": (kt, "loss", {"InputError"}),
    "Solution.transform": (kt.Solution, "transform", {"InputError"}),
    "Solution.induced_kernel": (kt.Solution, "induced_kernel", {"InputError"}),
    "get_objective": (objectives, "get_objective", {"InputError"}),
    "parse_options": (objectives, "parse_options", {"InputError"}),
    "get_kernel": (kt.kernels, "get_kernel", {"InputError"}),
    "KernelSSL": (estimator, "KernelSSL", {"InputError", "NotFittedError"}),
    "KernelSSL.fit": (KernelSSL, "fit", {"InputError"}),
    "KernelSSL.transform": (KernelSSL, "transform", {"InputError", "NotFittedError"}),
    "KernelSSL.induced_kernel": (KernelSSL, "induced_kernel", {"InputError", "NotFittedError"}),
    "KernelSSL.get_feature_names_out": (KernelSSL, "get_feature_names_out", {"NotFittedError"}),
}


@pytest.mark.parametrize("name", sorted(RAISES))
def test_raises_sections_name_the_package_exceptions(name):
    owner, attribute, expected = RAISES[name]
    raises = _section(getattr(owner, attribute).__doc__, "Raises")
    named = set(re.findall(r"^(\w+)$", raises, flags=re.M))
    assert named == expected
    for cls in named:  # each is a real exception class of the package
        assert issubclass(getattr(errors, cls, None) or getattr(estimator, cls), errors.KSSLError)


# --- 2. parameter names in messages match the signatures --------------------------------------------


@pytest.fixture(scope="module")
def fitted():
    X, groups = _views()
    K = kt.kernels.rbf(X, bandwidth=1.0)
    return X, kt.solve("contrastive", K, kt.graphs.adjacency(groups), 2), KernelSSL(dim=2, bandwidth=1.0).fit(X, groups)


def test_solution_induced_kernel_names_its_own_arguments(fitted):
    X, sol, _ = fitted
    K = kt.kernels.rbf(X, bandwidth=1.0)
    assert "K_1X" in inspect.signature(kt.Solution.induced_kernel).parameters
    with pytest.raises(InputError, match=r"^K_1X must have 15 columns"):
        sol.induced_kernel(np.ones((2, 3)))
    with pytest.raises(InputError, match=r"^K_2X must have 15 columns"):
        sol.induced_kernel(K, np.ones((2, 3)))
    with pytest.raises(InputError, match=r"^K_1X contains 2 NaN"):
        sol.induced_kernel(np.where(np.eye(2, 15) > 0, np.nan, 1.0))
    with pytest.raises(InputError, match=r"^K_new must have 15 columns"):
        sol.transform(np.ones((2, 3)))


def test_estimator_messages_name_its_arguments(fitted):
    X, _, model = fitted
    with pytest.raises(InputError, match=r"^X1 has 2 features"):
        model.induced_kernel(X[:, :2])
    with pytest.raises(InputError, match=r"^X2 has 2 features"):
        model.induced_kernel(X, X[:, :2])
    with pytest.raises(InputError, match=r"^X2 contains 3 NaN"):
        model.induced_kernel(X, np.where(np.eye(4, 3) > 0, np.nan, 1.0))
    with pytest.raises(InputError, match=r"^y has 4 labels but there are 15 views"):
        clone(model).fit(X, [0, 0, 1, 1])
    with pytest.raises(InputError, match=r"^groups has 4 labels but there are 15 views"):
        clone(model).fit(X, groups=[0, 0, 1, 1])


# --- 3. "did you mean" --------------------------------------------------------------------------------

K4, A4 = np.eye(4), kt.graphs.adjacency([0, 0, 1, 1])

SUGGESTIONS = {
    "objective": (
        lambda: kt.solve("contrastiv", K4, A4, 1),
        r"^unknown objective 'contrastiv'; did you mean 'contrastive'.*\? valid names: contrastive, ",
    ),
    "objective, case": (lambda: kt.solve("WHITEND", K4, A4, 1), r"did you mean 'whitened'\?"),
    "loss objective": (lambda: kt.loss("vicrg", np.ones((4, 1)), A4), r"did you mean 'vicreg'\?"),
    "option": (
        lambda: kt.solve("contrastive", K4, A4, 1, regg=0.1),
        r"^unknown option\(s\) \['regg'\] for objective 'contrastive'; did you mean 'reg'\? "
        r"valid options: \['reg'\]\.$",
    ),
    "option of solve": (lambda: kt.solve("contrastive", K4, A4, 1, methd="dense"), r"did you mean 'method'\?"),
    "options of loss": (lambda: kt.loss("vicreg", np.ones((4, 1)), A4, bta=1.0, Coef=1), r"'beta' for 'bta'"),
    "method": (lambda: kt.solve("contrastive", K4, A4, 1, method="iterativ"), r"did you mean 'iterative'\?"),
    "kernel": (lambda: kt.kernels.get_kernel("lapalce"), r"^unknown kernel 'lapalce'; did you mean 'laplace'"),
    "kernel parameter": (lambda: kt.kernels.get_kernel("rbf", bandwith=1.0), r"did you mean 'bandwidth'"),
    "estimator objective": (lambda: KernelSSL("eigenmap").fit(*_views()), r"did you mean 'eigenmaps'"),
    "estimator kernel": (lambda: KernelSSL(kernel="rbff").fit(*_views()), r"did you mean 'rbf'\?"),
    "estimator options": (
        lambda: KernelSSL("vicreg", dim=2, options={"centered": True}).fit(*_views()),
        r"did you mean 'centred'\?",
    ),
    "landmark rule": (
        lambda: KernelSSL(dim=2, n_landmarks=4, landmark_rule="unifrom").fit(*_views()),
        r"did you mean 'uniform'\?",
    ),
}


@pytest.mark.parametrize("case", sorted(SUGGESTIONS))
def test_misspelt_names_get_a_suggestion(case):
    call, message = SUGGESTIONS[case]
    with pytest.raises(InputError, match=message):
        call()


def test_no_suggestion_for_a_name_far_from_every_choice():
    with pytest.raises(InputError) as info:
        kt.solve("barlow_twins", K4, A4, 1)
    assert "did you mean" not in str(info.value) and "valid names: " in str(info.value)
    with pytest.raises(InputError, match=r"^unknown mode 3; valid: a, b\.$"):  # a non-string is not compared
        check_choice("mode", 3, ("a", "b"))
    assert close_matches("Dens", ["auto", "dense"]) == ["dense"] and close_matches(None, ["a"]) == []


# --- 4. any hashable group labels --------------------------------------------------------------------


def _gram(model, X):
    Z = np.asarray(model.transform(X))
    return Z @ Z.T


@pytest.mark.parametrize(
    "relabel",
    [
        lambda g: np.array(list("edcba"))[g],  # strings, in another order
        lambda g: np.array([f"sample-{i}" for i in g], dtype=object),
        lambda g: [(int(i), "x") for i in g],  # tuples
        lambda g: -3.5 * g - 1,  # negative, fractional floats
        lambda g: list(np.array([10, -1, 7, 3, 0])[g]),
    ],
    ids=["str", "object", "tuple", "float", "int list"],
)
def test_hashable_labels_give_the_same_model_as_integer_ones(relabel):
    X, groups = _views()
    reference = KernelSSL("vicreg", dim=3, bandwidth=1.0).fit(X, groups)
    labels = relabel(groups)
    model = KernelSSL("vicreg", dim=3, bandwidth=1.0).fit(X, labels)
    np.testing.assert_allclose(_gram(model, X), _gram(reference, X), atol=1e-10)
    assert len(model.groups_) == len(groups) and all(a == b for a, b in zip(model.groups_, labels, strict=True))


def test_the_model_does_not_depend_on_the_order_of_the_label_values():
    X, groups = _views()
    a = KernelSSL(dim=3, bandwidth=1.0).fit(X, groups)
    b = KernelSSL(dim=3, bandwidth=1.0).fit(X, (4 - groups).astype(str))
    np.testing.assert_allclose(_gram(a, X), _gram(b, X), atol=1e-10)


BAD_LABELS = {
    "None": ([0, 0, None, 1], r"^groups has 1 missing label\(s\) \(None, NaN or NaT\), the first at position 2"),
    "NaN": (np.array([0.0, np.nan, 1.0, np.nan]), r"^groups has 2 missing label\(s\).*position 1"),
    "NaN in objects": (np.array(["a", "a", float("nan"), "b"], dtype=object), "missing label"),
    "unhashable": ([[0], [0], [1], [1]], r"^groups\[0\] = \[0\] is not hashable \(list\)"),
    "a string": ("aabb", r"^groups is a string"),
    "2-D": (np.zeros((4, 2)), r"^groups must be 1-D"),
    "empty": ([], r"^groups is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_LABELS))
def test_missing_or_unusable_labels_are_refused(case):
    labels, message = BAD_LABELS[case]
    with pytest.raises(InputError, match=message):
        KernelSSL(dim=1, bandwidth=1.0).fit(np.arange(8.0).reshape(4, 2), groups=labels)


def test_encode_labels_numbers_by_first_appearance():
    codes, classes = encode_labels(["b", "a", "b", "c"])
    assert codes.tolist() == [0, 1, 0, 2] and classes.tolist() == ["b", "a", "c"]
    codes, classes = encode_labels([1, "1", 1])  # NumPy would make these two equal strings
    assert codes.tolist() == [0, 1, 0] and classes.tolist() == [1, "1"]


# --- 5. the scikit-learn protocol ---------------------------------------------------------------------


def test_not_fitted_error_is_both_sklearns_and_the_packages():
    model = KernelSSL()
    for call in (lambda: model.transform(np.ones((2, 2))), model.get_feature_names_out, lambda: check_is_fitted(model)):
        with pytest.raises(SklearnNotFittedError):
            call()
    with pytest.raises(InputError, match="not fitted"):
        model.induced_kernel(np.ones((2, 2)))


def test_fitted_attributes_feature_names_and_set_output():
    X, groups = _views()
    model = KernelSSL(dim=3, bandwidth=1.0).fit(X, groups)
    check_is_fitted(model)
    assert model.n_features_in_ == 3 and not hasattr(model, "feature_names_in_")
    assert model.get_feature_names_out().tolist() == ["kernelssl0", "kernelssl1", "kernelssl2"]
    assert model.set_output(transform="default") is model
    out = model.fit_transform(X, groups)
    assert isinstance(out, np.ndarray) and out.shape == (15, 3)
    nystrom = KernelSSL(dim=2, bandwidth=1.0, n_landmarks=6).fit(X, groups)
    assert nystrom.get_feature_names_out().tolist() == ["kernelssl0", "kernelssl1"]


def test_the_estimator_declares_that_it_needs_labels():
    if SKLEARN_VERSION < (1, 6):
        pytest.skip("estimator tags are scikit-learn >= 1.6")
    from sklearn.utils import get_tags

    assert get_tags(KernelSSL()).target_tags.required
    with pytest.raises(InputError, match="requires y to be passed, but the target y is None"):
        KernelSSL().fit(np.ones((4, 2)))


def test_notes_list_every_check_that_does_not_apply():
    notes = _section(KernelSSL.__doc__, "Notes")
    for name, reason in SKLEARN_EXPECTED_FAILED_CHECKS.items():
        assert f"``{name}``: {reason}." in notes


if SKLEARN_VERSION >= (1, 6):
    from sklearn.utils.estimator_checks import parametrize_with_checks

    @parametrize_with_checks(
        [KernelSSL(dim=2), KernelSSL("vicreg", dim=2, bandwidth=1.0), KernelSSL(dim=2, n_landmarks=5)],
        expected_failed_checks=lambda est: SKLEARN_EXPECTED_FAILED_CHECKS,
        xfail_strict=True,
    )
    @pytest.mark.filterwarnings("ignore::kssl_theory.errors.IllConditionedWarning")
    def test_sklearn_estimator_checks(estimator, check):
        check(estimator)

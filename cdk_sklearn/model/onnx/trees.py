"""scikit-learn's averaging tree models as a graph that adds in double, in scikit-learn's order.

A forest's ``predict_proba`` is each tree's leaf fractions, added tree by tree
into float64 zeros and divided by the number of trees; ``predict`` takes the first largest column. The
``ai.onnx.ml`` 1-3 tree operators add in float32 and pick their own label, so a row whose averaged
probabilities tie (two trees voting 1/0 and 0/1) can get the other class. Here:

- one ``TreeEnsemble`` (``ai.onnx.ml`` 5, double thresholds and leaf weights) writes each tree's leaf to
  its own block of targets, so no value is added inside the operator (a target's sum is 0 + one leaf,
  exact whatever onnxruntime's threads do);
- the blocks are then added with ``Add`` nodes in the trees' order, divided by the number of trees
  (``Div``, float64) and the label is ``ArgMax`` (first maximum, as numpy's ``argmax``).

So the probabilities are bit-for-bit scikit-learn's and the label is scikit-learn's, ties included.
The input is the float32-rounded value as double (the boundary cast of
:mod:`~cdk_sklearn.model.onnx.converters`), compared ``<=`` with the double thresholds as scikit-learn does.

skl2onnx and onnx are imported inside the functions: only a conversion pays for them.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

EXACT_TREES: Final = frozenset(
    {
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "ExtraTreeClassifier",
        "ExtraTreeRegressor",
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
    }
)
"""The estimators :func:`convert_averaged_trees` converts: their trees' outputs are averaged."""
TREE_ENSEMBLE_ML_OPSET: Final = 5
"""The ``ai.onnx.ml`` opset of ``TreeEnsemble``, the only tree operator with double outputs."""
_LEAF: Final = -1  # scikit-learn's children_left of a leaf


def _trees(model: Any) -> list[Any]:
    members = getattr(model, "estimators_", None)
    return [model.tree_] if members is None else [member.tree_ for member in members]


def _leaf_values(tree: Any, normalize: bool) -> npt.NDArray[np.float64]:
    """Each node's output as one tree's ``predict``/``predict_proba`` computes it."""
    values = np.asarray(tree.value[:, 0, :], dtype=np.float64)
    if not normalize:
        return values
    normalizer = values.sum(axis=1)[:, np.newaxis]
    normalizer[normalizer == 0.0] = 1.0
    divided: npt.NDArray[np.float64] = values / normalizer  # the float64 division such a predict_proba does
    return divided


def _normalizes(model: Any) -> bool:
    """Whether a member's ``predict_proba`` divides its leaf values by their sum.

    scikit-learn 1.4 and later store class fractions in ``tree_.value`` and return them as they are;
    earlier releases stored counts and divided. Asked of the model itself on one row, not its version.
    """
    if not hasattr(model, "classes_"):
        return False
    member = (getattr(model, "estimators_", None) or [model])[0]
    row = np.zeros((1, member.n_features_in_), dtype=np.float32)
    leaf = member.tree_.value[member.apply(row)[0], 0, :]
    return not np.array_equal(member.predict_proba(row)[0], leaf)


class _Ensemble:
    """The attributes of one ``TreeEnsemble`` node whose tree ``t`` writes its leaf's row to target ``t``.

    A leaf of ``TreeEnsemble`` holds one number for one target; a tree's leaf holds a row of class
    fractions. So each leaf's weight is the index of its row in :attr:`rows` (exact in double), and the
    graph gathers the rows afterwards.
    """

    def __init__(self) -> None:
        self.roots: list[int] = []
        self.features: list[int] = []
        self.splits: list[float] = []
        self.true_ids: list[int] = []
        self.true_leafs: list[int] = []
        self.false_ids: list[int] = []
        self.false_leafs: list[int] = []
        self.missing_true: list[int] = []
        self.leaf_targets: list[int] = []
        self.leaf_weights: list[float] = []
        self.rows: list[npt.NDArray[np.float64]] = []

    def add_tree(self, tree: Any, values: npt.NDArray[np.float64]) -> None:
        """Add ``tree`` (its node outputs are ``values``) as the next target."""
        target = len(self.roots)
        left, right = tree.children_left, tree.children_right
        missing_left = getattr(tree, "missing_go_to_left", None)
        node_id: dict[int, int] = {}
        leaf_id: dict[int, int] = {}
        for node in range(tree.node_count):
            if left[node] == _LEAF:
                leaf_id[node] = len(self.leaf_weights)
                self.leaf_targets.append(target)
                self.leaf_weights.append(float(len(self.rows)))
                self.rows.append(values[node])
            else:
                node_id[node] = len(self.features) + len(node_id)
        self.roots.append(len(self.features))
        if left[0] == _LEAF:  # a tree that is one leaf: a split whose both branches reach it
            self._append(0, 0.0, (leaf_id[0], 1), (leaf_id[0], 1), 1)
            return

        def branch(child: int) -> tuple[int, int]:
            return (leaf_id[child], 1) if left[child] == _LEAF else (node_id[child], 0)

        for node in range(tree.node_count):
            if left[node] != _LEAF:
                missing = 0 if missing_left is None else int(missing_left[node])
                feature, split = int(tree.feature[node]), float(tree.threshold[node])
                self._append(feature, split, branch(left[node]), branch(right[node]), missing)

    def _append(
        self, feature: int, split: float, true: tuple[int, int], false: tuple[int, int], missing: int
    ) -> None:
        self.features.append(feature)
        self.splits.append(split)
        self.true_ids.append(true[0])
        self.true_leafs.append(true[1])
        self.false_ids.append(false[0])
        self.false_leafs.append(false[1])
        self.missing_true.append(missing)

    def attributes(self) -> dict[str, Any]:
        """The node's attributes: leaf rows summed per target (one leaf each), no post-transform."""
        from onnx import numpy_helper

        return {
            "aggregate_function": 1,  # SUM: each target receives exactly one leaf, so 0 + weight
            "post_transform": 0,
            "n_targets": len(self.roots),
            "tree_roots": self.roots,
            "nodes_featureids": self.features,
            "nodes_splits": numpy_helper.from_array(np.asarray(self.splits, dtype=np.float64)),
            "nodes_modes": numpy_helper.from_array(np.zeros(len(self.features), dtype=np.uint8)),  # <=
            "nodes_truenodeids": self.true_ids,
            "nodes_trueleafs": self.true_leafs,
            "nodes_falsenodeids": self.false_ids,
            "nodes_falseleafs": self.false_leafs,
            "nodes_missing_value_tracks_true": self.missing_true,
            "leaf_targetids": self.leaf_targets,
            "leaf_weights": numpy_helper.from_array(np.asarray(self.leaf_weights, dtype=np.float64)),
        }


def convert_averaged_trees(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx converter: a decision tree or forest, averaged in double in scikit-learn's order.

    Outputs: the label and the probabilities (classifier) or the prediction ``[N, 1]`` (regressor),
    float64. The label is the first class of largest probability, as scikit-learn's ``predict``.
    """
    from onnx import TensorProto

    model = operator.raw_operator
    if getattr(model, "n_outputs_", 1) != 1:
        raise NotImplementedError(f"{type(model).__name__} with {model.n_outputs_} outputs")
    classifier = hasattr(model, "classes_")
    ensemble = _Ensemble()
    trees = _trees(model)
    normalize = _normalizes(model)
    for tree in trees:
        ensemble.add_tree(tree, _leaf_values(tree, normalize))
    name = scope.get_unique_variable_name
    table = np.vstack(ensemble.rows)
    source = operator.inputs[0].full_name
    leaves, indices, gathered = name("leaf_rows"), name("leaf_index"), name("tree_outputs")
    container.add_node(
        "TreeEnsemble",
        [source],
        [leaves],
        op_domain="ai.onnx.ml",
        op_version=3,
        name=scope.get_unique_operator_name("TreeEnsemble"),
        **ensemble.attributes(),
    )
    container.add_node(
        "Cast", [leaves], [indices], to=TensorProto.INT64, name=scope.get_unique_operator_name("Cast")
    )
    table_name = name("leaf_table")
    container.add_initializer(table_name, TensorProto.DOUBLE, list(table.shape), table.ravel().tolist())
    container.add_node(
        "Gather", [table_name, indices], [gathered], axis=0, name=scope.get_unique_operator_name("Gather")
    )
    total = _sum_in_order(scope, container, gathered, len(trees))
    count = name("n_trees")
    container.add_initializer(count, TensorProto.DOUBLE, [], [float(len(trees))])
    average = operator.outputs[1].full_name if classifier else operator.outputs[0].full_name
    container.add_node("Div", [total, count], [average], name=scope.get_unique_operator_name("Div"))
    if classifier:
        _label(scope, container, operator, average)


def _sum_in_order(scope: Any, container: Any, gathered: str, n_trees: int) -> str:
    """``gathered`` is ``[N, trees, outputs]``: tree 0 + tree 1 + ..., left to right, as scikit-learn adds."""
    from onnx import TensorProto

    name, op = scope.get_unique_variable_name, scope.get_unique_operator_name
    axis = name("axis")
    container.add_initializer(axis, TensorProto.INT64, [1], [1])
    parts: list[str] = [str(name("tree_output")) for _ in range(n_trees)]
    if n_trees == 1:
        container.add_node("Squeeze", [gathered, axis], parts, name=op("Squeeze"))
        return parts[0]
    pieces = [name("tree_piece") for _ in range(n_trees)]
    container.add_node("Split", [gathered], pieces, axis=1, name=op("Split"))
    for piece, part in zip(pieces, parts, strict=True):
        container.add_node("Squeeze", [piece, axis], [part], name=op("Squeeze"))
    total = parts[0]
    for part in parts[1:]:
        summed = str(name("tree_sum"))
        container.add_node("Add", [total, part], [summed], name=op("Add"))
        total = summed
    return total


def _label(scope: Any, container: Any, operator: Any, probabilities: str) -> None:
    """The class of the first largest probability, typed as the declared label output."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import StringTensorType

    name, op = scope.get_unique_variable_name, scope.get_unique_operator_name
    position = name("label_position")
    container.add_node(
        "ArgMax", [probabilities], [position], axis=1, keepdims=0, select_last_index=0, name=op("ArgMax")
    )
    classes = operator.raw_operator.classes_
    label = operator.outputs[0].full_name
    table = name("classes")
    if isinstance(operator.outputs[0].type, StringTensorType):
        container.add_initializer(
            table, TensorProto.STRING, [len(classes)], [str(c).encode() for c in classes]
        )
    else:  # skl2onnx declares integer (and integral float) classes as int64 labels
        container.add_initializer(table, TensorProto.INT64, [len(classes)], [int(c) for c in classes])
    container.add_node("Gather", [table, position], [label], axis=0, name=op("Gather"))

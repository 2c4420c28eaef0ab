"""parse_network / compile_plan: every structural error names the node at fault;
order and widths for the shipped residual and concat examples; to_dict round trip."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine.errors import ConfigError, GraphError
from engine.graph import compile_plan, parse_network

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


def net(nodes, edges, output="out"):
    return {"nodes": nodes, "edges": [list(e) for e in edges], "output": output}


def inp(i="in"):
    return {"id": i, "type": "input"}


def dense(i, units=3, **kw):
    return {"id": i, "type": "dense", "units": units, **kw}


def compile_raw(raw, width=2):
    return compile_plan(parse_network(raw), width)


def example(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text())


# ---------------------------------------------------------------------------
# structure errors, each naming the node
# ---------------------------------------------------------------------------

def test_cycle_is_refused_naming_a_node_in_it():
    raw = net([inp(), dense("h1"), {"id": "s", "type": "add"}, dense("h2"), dense("out", 1)],
              [("in", "h1"), ("h1", "s"), ("h2", "s"), ("s", "h2"), ("s", "out")])
    graph = parse_network(raw)
    with pytest.raises(GraphError, match="cycle") as exc:
        compile_plan(graph, 2)
    assert exc.value.node_id in ("s", "h2")
    assert f"node '{exc.value.node_id}'" in str(exc.value)


def test_cycle_error_names_a_node_in_the_cycle_whatever_the_file_order():
    # same graph, but the output is listed before the cycle's nodes
    raw = net([inp(), dense("out", 1), dense("h1"), {"id": "s", "type": "add"}, dense("h2")],
              [("in", "h1"), ("h1", "s"), ("h2", "s"), ("s", "h2"), ("s", "out")])
    with pytest.raises(GraphError, match="cycle") as exc:
        compile_raw(raw)
    assert exc.value.node_id in ("s", "h2"), str(exc.value)


def test_add_cycle_of_two_add_nodes():
    raw = net([inp(), dense("a"), dense("b"), {"id": "s1", "type": "add"}, {"id": "s2", "type": "add"},
               dense("out", 1)],
              [("in", "a"), ("in", "b"), ("a", "s1"), ("s2", "s1"), ("b", "s2"), ("s1", "s2"), ("s1", "out")])
    with pytest.raises(GraphError, match="part of a cycle") as exc:
        compile_raw(raw)
    assert exc.value.node_id in ("s1", "s2")


def test_edge_to_unknown_id_names_it():
    raw = net([inp(), dense("out", 1)], [("in", "out"), ("out", "ghost")])
    with pytest.raises(GraphError, match=r"node 'ghost': edge \['out', 'ghost'\] refers to a node that does not exist"):
        parse_network(raw)
    raw = net([inp(), dense("out", 1)], [("nowhere", "out")])
    with pytest.raises(GraphError, match=r"node 'nowhere'") as exc:
        parse_network(raw)
    assert exc.value.node_id == "nowhere"


def test_output_naming_unknown_node():
    with pytest.raises(GraphError, match=r"node 'final'.*does not exist"):
        parse_network(net([inp(), dense("out", 1)], [("in", "out")], output="final"))


def test_dense_with_two_inputs():
    raw = net([inp(), dense("a"), dense("b"), dense("out", 1)],
              [("in", "a"), ("in", "b"), ("a", "out"), ("b", "out")])
    with pytest.raises(GraphError, match=r"node 'out': a dense node takes exactly one incoming edge, it has 2"):
        compile_raw(raw)


@pytest.mark.parametrize("kind", ["activation", "dropout"])
def test_single_input_nodes_with_no_input(kind):
    extra = {"fn": "tanh"} if kind == "activation" else {"p": 0.5}
    raw = net([inp(), {"id": "x", "type": kind, **extra}, dense("h"), dense("out", 1)],
              [("in", "h"), ("h", "out"), ("x", "out")])
    with pytest.raises(GraphError, match=r"node '(x|out)'") as exc:
        compile_raw(raw)
    # x has no input, out has two: either is a correct complaint, x is listed first
    assert exc.value.node_id == "x"
    assert "it has 0" in str(exc.value)


@pytest.mark.parametrize("kind", ["add", "concat"])
def test_merge_with_one_input(kind):
    raw = net([inp(), dense("a"), {"id": "m", "type": kind}, dense("out", 1)],
              [("in", "a"), ("a", "m"), ("m", "out")])
    with pytest.raises(GraphError, match=rf"node 'm': an {kind} node takes two or more incoming edges, it has 1"):
        compile_raw(raw)


def test_input_with_incoming_edge():
    raw = net([inp(), dense("h"), dense("out", 1), {"id": "s", "type": "add"}],
              [("h", "in"), ("in", "h"), ("h", "out")])
    with pytest.raises(GraphError, match=r"node 'in': an input node takes no incoming edge"):
        compile_raw(raw)


def test_add_width_mismatch_names_add_and_widths():
    raw = net([inp(), dense("a", 4), dense("b", 3), {"id": "sum", "type": "add"}, dense("out", 1)],
              [("in", "a"), ("in", "b"), ("a", "sum"), ("b", "sum"), ("sum", "out")])
    with pytest.raises(GraphError) as exc:
        compile_raw(raw)
    msg = str(exc.value)
    assert exc.value.node_id == "sum"
    assert msg.startswith("node 'sum': ")
    assert "'a' 4" in msg and "'b' 3" in msg


def test_add_of_equal_widths_keeps_the_width():
    raw = net([inp(), dense("a", 4), dense("b", 4), dense("c", 4), {"id": "sum", "type": "add"}, dense("out", 1)],
              [("in", "a"), ("in", "b"), ("in", "c"), ("a", "sum"), ("b", "sum"), ("c", "sum"), ("sum", "out")])
    plan = compile_raw(raw, 5)
    s = plan.steps[plan.index["sum"]]
    assert (s.in_width, s.width) == (4, 4)
    assert plan.steps[plan.index["out"]].in_width == 4
    assert plan.steps[plan.index["a"]].in_width == 5


def test_concat_sums_widths_in_edge_order():
    raw = net([inp(), dense("a", 4), dense("b", 3), dense("c", 2), {"id": "cat", "type": "concat"},
               dense("out", 2)],
              [("in", "a"), ("in", "b"), ("in", "c"), ("c", "cat"), ("a", "cat"), ("b", "cat"), ("cat", "out")])
    graph = parse_network(raw)
    plan = compile_plan(graph, 2)
    cat = plan.steps[plan.index["cat"]]
    assert cat.width == 9
    assert [plan.steps[i].node.id for i in cat.inputs] == ["c", "a", "b"]   # edge order
    assert graph.inputs_of("cat") == ("c", "a", "b")
    out = plan.steps[plan.index["out"]]
    assert (out.in_width, out.width) == (9, 2)
    assert plan.n_params == (4 * 2 + 4) + (3 * 2 + 3) + (2 * 2 + 2) + (2 * 9 + 2)


def test_concat_of_input_and_hidden():
    raw = net([inp(), dense("h", 5), {"id": "cat", "type": "concat"}, dense("out", 1)],
              [("in", "h"), ("in", "cat"), ("h", "cat"), ("cat", "out")])
    plan = compile_raw(raw, 3)
    assert plan.steps[plan.index["cat"]].width == 8


def test_node_without_path_to_output():
    raw = net([inp(), dense("h"), dense("side", 2), dense("out", 1)],
              [("in", "h"), ("h", "out"), ("h", "side")])
    with pytest.raises(GraphError, match=r"node 'side': has no path to the output node 'out'"):
        compile_raw(raw)


def test_isolated_node_without_path_to_output():
    raw = net([inp(), {"id": "lonely", "type": "add"}, dense("out", 1)], [("in", "out")])
    # an add with no inputs is refused for its fan-in first; both messages name it
    with pytest.raises(GraphError, match=r"node 'lonely'"):
        compile_raw(raw)


def test_two_input_nodes():
    raw = net([inp("in"), inp("in2"), dense("out", 1)], [("in", "out")])
    with pytest.raises(GraphError, match=r"node 'in2': a network has exactly one input node"):
        compile_raw(raw)


def test_no_input_node():
    with pytest.raises(GraphError, match=r"network: there is no input node"):
        compile_raw(net([dense("out", 1)], []))


def test_output_is_the_input():
    with pytest.raises(GraphError, match=r"node 'in': the output cannot be the input node"):
        compile_raw(net([inp()], [], output="in"))


def test_duplicate_ids():
    raw = net([inp(), dense("h"), dense("h"), dense("out", 1)], [("in", "h"), ("h", "out")])
    with pytest.raises(GraphError, match=r"node 'h': the id is used by more than one node"):
        parse_network(raw)


def test_duplicate_edge():
    raw = net([inp(), dense("out", 1)], [("in", "out"), ("in", "out")])
    with pytest.raises(GraphError, match=r"node 'out': edge \['in', 'out'\] is listed twice"):
        parse_network(raw)


def test_unknown_node_type():
    raw = net([inp(), {"id": "c1", "type": "conv2d"}, dense("out", 1)], [("in", "c1"), ("c1", "out")])
    with pytest.raises(GraphError, match=r"node 'c1': unknown type 'conv2d'"):
        parse_network(raw)


def test_field_that_does_not_apply():
    raw = net([inp(), {"id": "d", "type": "dropout", "p": 0.2, "units": 3}, dense("out", 1)],
              [("in", "d"), ("d", "out")])
    with pytest.raises(GraphError, match=r"node 'd': field 'units' does not apply to a dropout node"):
        parse_network(raw)


def test_dense_without_units():
    with pytest.raises(GraphError, match=r"node 'h': a dense node needs 'units'"):
        parse_network(net([inp(), {"id": "h", "type": "dense"}], [("in", "h")], "h"))


@pytest.mark.parametrize("units", [0, -1, 2.5, "8", True, None, float("nan")])
def test_bad_units(units):
    raw = net([inp(), dense("h1", units), dense("out", 1)], [("in", "h1"), ("h1", "out")])
    with pytest.raises(ConfigError, match=r"'h1'.*units") as exc:
        parse_network(raw)
    assert repr(units) in str(exc.value)


@pytest.mark.parametrize("p", [1, 1.0, -0.1, 1.5, "0.5", True])
def test_bad_dropout_p(p):
    raw = net([inp(), {"id": "drop", "type": "dropout", "p": p}, dense("out", 1)], [("in", "drop"), ("drop", "out")])
    with pytest.raises(ConfigError, match=r"'drop'.*\bp\b"):
        parse_network(raw)


def test_dropout_p_zero_and_default():
    raw = net([inp(), {"id": "d0", "type": "dropout", "p": 0}, {"id": "d", "type": "dropout"}, dense("out", 1)],
              [("in", "d0"), ("d0", "d"), ("d", "out")])
    g = parse_network(raw)
    assert g.node("d0").p == 0.0
    assert g.node("d").p == 0.5


def test_bad_activation_and_alpha_and_init():
    with pytest.raises(ConfigError, match=r"'h'.*activation.*'swish'"):
        parse_network(net([inp(), dense("h", activation="swish")], [("in", "h")], "h"))
    with pytest.raises(ConfigError, match=r"'h'.*alpha"):
        parse_network(net([inp(), dense("h", activation="elu", alpha=-1.0)], [("in", "h")], "h"))
    with pytest.raises(ConfigError, match=r"'h'.*init"):
        parse_network(net([inp(), dense("h", init="xavier")], [("in", "h")], "h"))
    with pytest.raises(ConfigError, match=r"'a'.*fn"):
        parse_network(net([inp(), {"id": "a", "type": "activation", "fn": "nope"}], [("in", "a")], "a"))
    with pytest.raises(GraphError, match=r"node 'a': an activation node needs 'fn'"):
        parse_network(net([inp(), {"id": "a", "type": "activation"}], [("in", "a")], "a"))


def test_softmax_on_one_unit():
    raw = net([inp(), dense("out", 1, activation="softmax")], [("in", "out")])
    with pytest.raises(GraphError, match=r"node 'out': softmax over a single unit"):
        compile_raw(raw)


def test_malformed_sections_name_the_field():
    with pytest.raises(ConfigError, match=r"network\.nodes"):
        parse_network({"nodes": [], "edges": [], "output": "x"})
    with pytest.raises(ConfigError, match=r"network\.edges\[1\]"):
        parse_network(net([inp(), dense("out", 1)], [("in", "out"), ("in",)]))
    with pytest.raises(ConfigError, match=r"network\.nodes\[1\]\.id"):
        parse_network(net([inp(), {"type": "dense", "units": 1}], []))


# ---------------------------------------------------------------------------
# order and widths of the shipped examples
# ---------------------------------------------------------------------------

def test_residual_example_order_and_widths():
    doc = example("residual")
    plan = compile_plan(parse_network(doc["network"]), 2)
    order = [s.node.id for s in plan.steps]
    assert order == ["in", "h1", "h2", "h3", "sum", "act", "out"]
    widths = {s.node.id: (s.in_width, s.width) for s in plan.steps}
    assert widths == {"in": (2, 2), "h1": (2, 8), "h2": (8, 8), "h3": (8, 8), "sum": (8, 8), "act": (8, 8),
                      "out": (8, 1)}
    # every node comes after its inputs
    pos = {nid: i for i, nid in enumerate(order)}
    for src, dst in doc["network"]["edges"]:
        assert pos[src] < pos[dst]
    sum_step = plan.steps[plan.index["sum"]]
    assert [plan.steps[i].node.id for i in sum_step.inputs] == ["h1", "h3"]
    assert plan.output_width == 1 and plan.output_activation == "sigmoid"
    assert plan.n_params == (2 * 8 + 8) + 2 * (8 * 8 + 8) + (8 + 1)


def test_concat_example_order_and_widths():
    doc = example("concat")
    plan = compile_plan(parse_network(doc["network"]), 2)
    assert [s.node.id for s in plan.steps] == ["in", "a", "b", "cat", "out"]
    widths = {s.node.id: (s.in_width, s.width) for s in plan.steps}
    assert widths == {"in": (2, 2), "a": (2, 4), "b": (2, 4), "cat": (8, 8), "out": (8, 1)}
    assert plan.n_params == (2 * 4 + 4) * 2 + (8 + 1)


def test_topological_order_when_file_order_is_scrambled():
    doc = example("residual")
    raw = copy.deepcopy(doc["network"])
    raw["nodes"] = list(reversed(raw["nodes"]))
    plan = compile_plan(parse_network(raw), 2)
    order = [s.node.id for s in plan.steps]
    pos = {nid: i for i, nid in enumerate(order)}
    for src, dst in raw["edges"]:
        assert pos[src] < pos[dst]
    assert plan.output_index == pos["out"]
    assert plan.steps[plan.index["out"]].in_width == 8


def test_output_activation_of_non_transfer_output():
    raw = net([inp(), dense("a", 3, activation="sigmoid"), dense("b", 3), {"id": "out", "type": "add"}],
              [("in", "a"), ("in", "b"), ("a", "out"), ("b", "out")])
    assert compile_raw(raw).output_activation == "linear"
    raw = net([inp(), dense("a", 3), {"id": "out", "type": "activation", "fn": "softmax"}],
              [("in", "a"), ("a", "out")])
    plan = compile_raw(raw)
    assert plan.output_activation == "softmax" and plan.output_width == 3


# ---------------------------------------------------------------------------
# to_dict round trip
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
def test_round_trip_examples(name):
    graph = parse_network(example(name)["network"])
    again = parse_network(graph.to_dict())
    assert again == graph
    assert json.loads(json.dumps(graph.to_dict())) == graph.to_dict()


def test_round_trip_every_node_kind_and_field():
    raw = net([inp(),
               dense("h1", 5, activation="leaky_relu", alpha=0.2, init={"name": "uniform", "a": -0.5, "b": 0.5},
                     bias=0.1),
               dense("h2", 5, activation="elu", init="he_normal"),
               {"id": "sum", "type": "add"},
               {"id": "act", "type": "activation", "fn": "elu", "alpha": 0.7},
               {"id": "drop", "type": "dropout", "p": 0.25},
               {"id": "cat", "type": "concat"},
               dense("out", 3, activation="softmax")],
              [("in", "h1"), ("in", "h2"), ("h1", "sum"), ("h2", "sum"), ("sum", "act"), ("act", "drop"),
               ("drop", "cat"), ("in", "cat"), ("cat", "out")])
    graph = parse_network(raw)
    d = graph.to_dict()
    assert parse_network(d) == graph
    assert parse_network(json.loads(json.dumps(d))) == graph
    h1 = graph.node("h1")
    assert (h1.units, h1.activation, h1.alpha, h1.bias, h1.act_alpha) == (5, "leaky_relu", 0.2, 0.1, 0.2)
    assert graph.node("h2").act_alpha == 1.0
    assert graph.node("act").act_alpha == 0.7
    assert graph.node("drop").p == 0.25
    plan = compile_plan(graph, 2)
    assert plan.steps[plan.index["cat"]].width == 5 + 2

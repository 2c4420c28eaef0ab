"""Project edits behind the +/- buttons and the data panel (pure dict functions)."""
import json
from pathlib import Path

from playground.project import parse_project
from playground import edits

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


def doc(name):
    return json.loads((EXAMPLES / name).read_text())


def test_chain_detection():
    assert edits.chain_hidden(doc("spiral.json")["network"]) == ["h1", "h2", "h3"]
    assert edits.chain_hidden(doc("residual.json")["network"]) is None
    assert edits.chain_hidden(doc("concat.json")["network"]) is None


def test_add_and_remove_layers_stay_valid():
    d = doc("xor.json")
    net = edits.add_layer(d["network"])
    assert edits.chain_hidden(net) == ["h1", "h2"]
    parse_project({**d, "network": net})
    net = edits.remove_layer(edits.remove_layer(net))
    assert edits.chain_hidden(net) == []
    assert net["edges"] == [["in", "out"]]
    parse_project({**d, "network": net})
    assert edits.chain_hidden(edits.add_layer(net)) == ["h1"]


def test_units_are_clamped():
    net = doc("xor.json")["network"]
    assert edits.change_units(net, "h1", -5)["nodes"][1]["units"] == 1
    assert edits.change_units(net, "h1", +99)["nodes"][1]["units"] == edits.BUTTON_MAX_UNITS


def test_hidden_activation_keeps_deliberately_linear_nodes():
    net = edits.set_hidden_activation(doc("residual.json")["network"], "relu")
    acts = {n["id"]: n.get("activation", n.get("fn")) for n in net["nodes"]}
    assert acts == {"in": None, "h1": "relu", "h2": "relu", "h3": "linear", "sum": None, "act": "relu",
                    "out": "sigmoid"}


def test_fit_output_to_three_classes_and_back():
    d = doc("spiral.json")
    changes = edits.fit_output(d, "classification", 3)
    out = edits.output_node(changes["network"])
    assert (out["units"], out["activation"], changes["training"]["loss"]) == (3, "softmax", "cross_entropy")
    d.update(changes)
    back = edits.fit_output(d, "classification", 2)
    assert edits.output_node(back["network"])["units"] == 1 and back["training"]["loss"] == "bce"
    assert edits.fit_output(doc("spiral.json"), "classification", 2) == {}

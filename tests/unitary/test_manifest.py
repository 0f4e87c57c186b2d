"""volmargin.chain.manifest: a deployment file written by System.write_json reads back through the
pydantic schema, and every malformed file is a DeploymentError naming the file and the field."""

from __future__ import annotations

import json

import pytest

from volmargin.chain.manifest import DeploymentError, DeploymentInfo, load, read_json


def test_written_deployment_reads_back(system, project, tmp_path):
    path = system.write_json(tmp_path / "d.json")
    info = read_json(path)
    assert isinstance(info, DeploymentInfo)
    assert info.vault == str(system.vault.address) and info.oracle == str(system.oracle.address)
    assert set(info.assets) == set(system.symbols)
    for s in system.symbols:
        assert info.assets[s].token == str(system.tokens[s].address)
        assert info.assets[s].decimals == system.specs[s].decimals
    # the model holds exactly the JSON as written, and the fields only `ape run deploy` writes stay unset
    assert info.model_dump(exclude_unset=True) == json.loads(path.read_text())
    assert info.chain_id is info.config_hash is info.read_back is None
    dep = load(project, path)
    assert dep.vault.address == system.vault.address and dep.symbol_of("weth") == "WETH"
    assert dep.symbol_of(str(system.tokens["WBTC"].address).lower()) == "WBTC"
    with pytest.raises(DeploymentError, match="unknown asset 'DOGE'"):
        dep.symbol_of("DOGE")


def _good(system, tmp_path) -> dict:
    return json.loads(system.write_json(tmp_path / "good.json").read_text())


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda d: d.pop("vault"), r"not a deployment file: vault: Field required"),
        (lambda d: d.update(oracle="0x1234"), r"oracle: String should match pattern"),
        (lambda d: d["assets"]["WETH"].pop("feed"), r"assets\.WETH\.feed: Field required"),
        (lambda d: d["assets"]["WBTC"].update(decimals="eight"), r"assets\.WBTC\.decimals: Input should be a valid integer"),
        (lambda d: d["assets"]["USD"].update(decimals=-1), r"assets\.USD\.decimals: Input should be greater than or equal to 0"),
        (lambda d: d.update(assets={}), r"assets: Dictionary should have at least 1 item"),
        (lambda d: d["vault_params"].update(close_factor=0.5), r"vault_params\.close_factor: Input should be a valid integer"),
    ],
)
def test_bad_fields_are_named(system, tmp_path, edit, match):
    d = _good(system, tmp_path)
    edit(d)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    with pytest.raises(DeploymentError, match=r"bad\.json: " + ".*" + match):
        read_json(path)


def test_missing_and_non_json_files(tmp_path):
    with pytest.raises(DeploymentError, match=r"nope\.json: no deployment file \(run `ape run deploy` first\)"):
        read_json(tmp_path / "nope.json")
    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(DeploymentError, match=r"x\.json: not JSON \(Invalid JSON"):
        read_json(tmp_path / "x.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(DeploymentError, match=r"list\.json: not a deployment file: \(file\): Input should be"):
        read_json(tmp_path / "list.json")
    assert issubclass(DeploymentError, ValueError)

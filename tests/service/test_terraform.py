"""provision and destroy with real terraform: init + apply, then destroy, of terraform_data."""

from __future__ import annotations

import json
import shutil

import pytest

from machines.names import StateName
from statemgr.service.workspace import Workspace

from .conftest import ConfigWriter

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not on PATH")

CONFIG = """
[[provision.steps]]
name = "tofu_init"
run = ["terraform", "init", "-input=false", "-no-color"]
cwd = "tofu"
timeout = 120

[[provision.steps]]
name = "tofu_apply"
run = ["terraform", "apply", "-auto-approve", "-input=false", "-no-color"]
cwd = "tofu"
timeout = 120
env = { TF_VAR_env = "{name}", TF_IN_AUTOMATION = "1" }

[[destroy.steps]]
name = "tofu_destroy"
run = ["terraform", "destroy", "-auto-approve", "-input=false", "-no-color"]
cwd = "tofu"
timeout = 120
env = { TF_VAR_env = "{name}", TF_IN_AUTOMATION = "1" }
"""

MODULE = """
variable "env" {
  type = string
}

resource "terraform_data" "vm" {
  input = var.env
}
"""


def test_provision_and_destroy_with_terraform(
    workspace: Workspace, write_config: ConfigWriter
) -> None:
    workspace.create(write_config("tf-env", CONFIG))
    module = workspace.layout.build_dir("tf-env") / "tofu"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(MODULE)
    snapshot = workspace.provision("tf-env")
    assert snapshot.state.name is StateName.provisioned
    state_file = workspace.layout.build_dir("tf-env") / "tofu" / "terraform.tfstate"
    state = json.loads(state_file.read_text())
    resources = state["resources"]
    assert [(r["type"], r["name"]) for r in resources] == [("terraform_data", "vm")]
    assert resources[0]["instances"][0]["attributes"]["input"]["value"] == "tf-env"

    assert workspace.destroy("tf-env").state.name is StateName.destroyed
    assert json.loads(state_file.read_text())["resources"] == []

# Before `configfile:`: Snakemake reports a YAML syntax error without file, line or column.

import os
import sys

sys.path.insert(0, os.path.join(workflow.basedir, "src"))

from nqsgen.config.files import load_yaml  # noqa: E402
from nqsgen.errors import ConfigError  # noqa: E402

for _file in ["config/config.yaml", *workflow.config_settings.configfiles]:
    if os.path.exists(_file):
        try:
            load_yaml(_file)
        except ConfigError as exc:
            raise SystemExit(f"config error: {exc}")

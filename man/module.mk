# SPDX-License-Identifier: BSD-3-Clause
# man/: the manual pages, mdoc: hotswap(1) the CLI, hotswap(3) the API, hotswap(7) the shim
# (environment, reload protocol, rules for plugins, messages). Checked by tests/cli/test_man.sh
# (mandoc -Tlint, and that every command and every variable the shim reads is documented).
MAN_PAGES := man/hotswap.1 man/hotswap.3 man/hotswap.7
TESTS += tests/cli/test_man.sh

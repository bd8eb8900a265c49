/* SPDX-License-Identifier: BSD-3-Clause */
/* pc_plugin.c - compiled into the legacy handler by test_install.sh against the installed
 * tree only (`pkg-config --cflags hotswap`): the plugin API's hooks and codes from
 * <hotswap.h> as installed. */
#include <hotswap.h>
#include <stdbool.h>

bool hotswap_reloadable(void) { return HOTSWAP_EHOOK < 0; }

# SPDX-License-Identifier: BSD-3-Clause
# tests/api: the host and plugin API (invoke, vault, live functions/types/data; h-api).
# Fixture plugins from fx_api.c into $(BUILD)/api-plugins/<name>-v<N>.so, the cmocka test
# test_api and test_api_cache over the loader, and test_api_shim.sh: a host calling the API through the shim.
API_FIX := $(BUILD)/api-plugins
API_FX := ap_alpha-v1 ap_alpha-v2 ap_alpha-v3 ap_alpha-v9 ap_beta-v1 ap_beta-v2 \
          ap_zulu-v1 ap_quiet-v1 ap_live-v1 ap_live-v2
AP_ap_alpha := -DAP_IMPORT='"ap_zulu"'
AP_ap_alpha-v1 := -DAP_LIVE=1
AP_ap_alpha-v2 := -DAP_LIVE=2 -DAP_UPGRADE
AP_ap_alpha-v3 := -DAP_LIVE=2
AP_ap_alpha-v9 := -DAP_LIVE=2 -DAP_UPGRADE -DAP_ONINIT_RC=-3
AP_ap_beta := -DAP_FAIL_RC=-22
AP_ap_zulu := -DAP_FAIL_RC=5
AP_ap_quiet := -DAP_NO_INVOKE
AP_ap_live := -DAP_LIVE=1
API_FIX_SOS := $(patsubst %,$(API_FIX)/%.so,$(API_FX))

# Plain -fPIC builds without sanitizers, like tests/plugins (a sanitized program loads them).
$(API_FIX)/%.so: tests/api/fx_api.c tests/api/api_fixture.h include/hotswap.h \
                 tests/api/module.mk | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,CCLD,$@)
	$(Q)$(CC) -std=gnu11 $(WARN) $(if $(filter 1,$(WERROR)),-Werror) -O2 -g -fPIC -shared \
	  -Iinclude -I. -DAP_NAME='"$(call fx_name,$*)"' -DAP_VERSION=$(call fx_ver,$*) \
	  $(AP_$(call fx_name,$*)) $(AP_$*) -o $@ $<

API_TEST := $(BUILD)/tests/test_api
API_TEST_OBJ := $(BUILD)/obj/tests/api/test_api.o
$(API_TEST_OBJ): EXTRA_CFLAGS += $(CMOCKA_CFLAGS) -DAPI_FIXTURE_DIR='"$(abspath $(API_FIX))"'

$(API_TEST): $(API_TEST_OBJ) $(LOADER_LIB) $(ELF_LIB) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LOADER_LINK) $(CMOCKA_LIBS)

API_HOST := $(BUILD)/tests/api_host
$(API_HOST): tests/api/api_host.c tests/api/api_fixture.h | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

# test_api_cache: the per-thread lookup cache, and a stress run under reloads + retirement.
API_CACHE_TEST := $(BUILD)/tests/test_api_cache
API_CACHE_OBJ := $(BUILD)/obj/tests/api/test_api_cache.o
$(API_CACHE_OBJ): EXTRA_CFLAGS += $(CMOCKA_CFLAGS) -DAPI_FIXTURE_DIR='"$(abspath $(API_FIX))"'

$(API_CACHE_TEST): $(API_CACHE_OBJ) $(LOADER_LIB) $(ELF_LIB) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LOADER_LINK) $(CMOCKA_LIBS)

TESTS += $(API_TEST) $(API_CACHE_TEST) tests/api/test_api_shim.sh
UNIT_TESTS += $(API_TEST) $(API_CACHE_TEST)
TEST_DEPS += $(API_FIX_SOS) $(API_HOST)

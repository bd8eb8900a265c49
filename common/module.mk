# common/: the error table shared by every module.
COMMON_OBJS := $(BUILD)/obj/common/errors.o
$(COMMON_OBJS): EXTRA_CFLAGS += -fvisibility=hidden

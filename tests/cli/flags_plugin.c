/* SPDX-License-Identifier: BSD-3-Clause */
/* flags_plugin.c - fixture for the CLI tests: a plugin that uses thread-local storage,
 * exports a GNU_UNIQUE object (what g++ makes of inline statics; written in assembly here)
 * and a function whose name holds a quote, a backslash, a tab, an escape sequence and a
 * byte that is not UTF-8, to prove that inspect's text and JSON output stay safe. */
__thread int flags_tls_counter;

int flags_entry(void);
int flags_entry(void) { return ++flags_tls_counter; }

__asm__(".pushsection .data\n"
        ".globl flags_unique\n"
        ".type flags_unique, @gnu_unique_object\n"
        ".size flags_unique, 4\n"
        ".balign 4\n"
        "flags_unique: .long 7\n"
        ".popsection");

/* The name is: odd"name\x<TAB>q<ESC>[31m<0xff> */
#define ODD_NAME "\"odd\\\"name\\\\x\tq\x1b[31m\xff\""
__asm__(".pushsection .text\n"
        ".globl " ODD_NAME "\n"
        ".type " ODD_NAME ", @function\n" ODD_NAME ": ret\n"
        ".popsection");

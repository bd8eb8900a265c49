/* SPDX-License-Identifier: BSD-3-Clause */
/* extension.h - the extension object of the extension demo, shared by host.c and the cat
 * plugin: a host-defined struct of function pointers that the plugin fills in
 * hotswap_on_init (the Go seed's g.VaultExtension{Meow func(int)}). */
#ifndef EXAMPLES_EXTENSION_H
#define EXAMPLES_EXTENSION_H

struct cat_extension {
  void (*meow)(int times); /* set by the plugin; NULL until one has */
  int build;               /* the build number of the plugin that set meow */
};

#endif

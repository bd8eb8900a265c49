/* SPDX-License-Identifier: BSD-3-Clause */
/* build_git.c - the version stamp of `hotswap build`, read from git with libgit2 (never a
 * git subprocess): commit, branch, commit time, and whether the plugin's folder has
 * uncommitted changes, untracked files included.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/build.h"

static void set_unversioned(struct bld_stamp *st) {
  snprintf(st->commit, sizeof(st->commit), "%s", BLD_UNVERSIONED);
  st->branch[0] = '\0';
  st->dirty = false;
  st->commit_time = 0;
}

static const char *git_reason(void) {
  const git_error *e = git_error_last();
  return e != NULL && e->message != NULL ? e->message : "unknown libgit2 error";
}

/* Path of dir relative to the repository's work tree ("" when it is the root), into rel.
 * Returns 0, or -ENOENT when dir is not under the work tree. */
static int relative_to_workdir(git_repository *repo, const char *dir, char *rel, size_t n) {
  const char *wd = git_repository_workdir(repo);
  if (wd == NULL)
    return -ENOENT;
  char *real = realpath(wd, NULL);
  if (real == NULL)
    return -errno;
  size_t len = strlen(real);
  int rc = 0;
  if (strcmp(real, "/") == 0)
    snprintf(rel, n, "%s", dir + 1);
  else if (strncmp(dir, real, len) == 0 && dir[len] == '\0')
    rel[0] = '\0';
  else if (strncmp(dir, real, len) == 0 && dir[len] == '/')
    snprintf(rel, n, "%s", dir + len + 1);
  else
    rc = -ENOENT;
  free(real);
  return rc;
}

/* Whether anything under `rel` differs from HEAD: staged, modified, deleted or untracked
 * (ignored files do not count). Returns 1, 0, or -1 with a libgit2 error. */
static int is_dirty(git_repository *repo, const char *rel) {
  git_status_options o;
  git_status_options_init(&o, GIT_STATUS_OPTIONS_VERSION);
  o.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  o.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
            GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  char *paths[1] = {(char *)rel};
  if (rel[0] != '\0') {
    o.pathspec.strings = paths;
    o.pathspec.count = 1;
  }
  git_status_list *list = NULL;
  if (git_status_list_new(&list, repo, &o) < 0)
    return -1;
  int dirty = git_status_list_entrycount(list) > 0;
  git_status_list_free(list);
  return dirty;
}

/* Fill commit, time and branch from HEAD. Returns 0, or 1 with a warning in warn. */
static int read_head(git_repository *repo, const char *dir, struct bld_stamp *st,
                     char *warn) {
  git_reference *head = NULL;
  int e = git_repository_head(&head, repo);
  if (e == GIT_EUNBORNBRANCH || e == GIT_ENOTFOUND) {
    snprintf(warn, BLD_ERR_MAX,
             "the git repository of %s has no commits yet; stamping commit \"%s\"", dir,
             BLD_UNVERSIONED);
    return 1;
  }
  git_commit *commit = NULL;
  if (e < 0 || git_commit_lookup(&commit, repo, git_reference_target(head)) < 0) {
    snprintf(warn, BLD_ERR_MAX, "cannot read HEAD of the git repository of %s (%s); "
             "stamping commit \"%s\"", dir, git_reason(), BLD_UNVERSIONED);
    git_reference_free(head);
    return 1;
  }
  git_oid_tostr(st->commit, sizeof(st->commit), git_commit_id(commit));
  st->commit_time = (int64_t)git_commit_time(commit);
  snprintf(st->branch, sizeof(st->branch), "%s",
           git_reference_is_branch(head) ? git_reference_shorthand(head) : "HEAD");
  git_commit_free(commit);
  git_reference_free(head);
  return 0;
}

int bld_git_stamp(const char *dir, struct bld_stamp *st, char *warn) {
  set_unversioned(st);
  warn[0] = '\0';
  if (git_libgit2_init() < 0) {
    snprintf(warn, BLD_ERR_MAX, "cannot start libgit2 (%s); stamping commit \"%s\"",
             git_reason(), BLD_UNVERSIONED);
    return 1;
  }
  git_repository *repo = NULL;
  int rc = 1;
  int e = git_repository_open_ext(&repo, dir, 0, NULL);
  if (e == GIT_ENOTFOUND) {
    snprintf(warn, BLD_ERR_MAX, "%s is not in a git repository; stamping commit \"%s\"",
             dir, BLD_UNVERSIONED);
    goto out;
  }
  if (e < 0) {
    snprintf(warn, BLD_ERR_MAX, "cannot open the git repository of %s (%s); stamping "
             "commit \"%s\"", dir, git_reason(), BLD_UNVERSIONED);
    goto out;
  }
  char rel[4096];
  if (relative_to_workdir(repo, dir, rel, sizeof(rel)) < 0) {
    snprintf(warn, BLD_ERR_MAX, "%s is not in the work tree of its git repository; "
             "stamping commit \"%s\"", dir, BLD_UNVERSIONED);
    goto out;
  }
  if (read_head(repo, dir, st, warn) != 0) {
    set_unversioned(st);
    goto out;
  }
  int dirty = is_dirty(repo, rel);
  if (dirty < 0)
    snprintf(warn, BLD_ERR_MAX, "cannot read the git status of %s (%s); stamping it "
             "dirty", dir, git_reason());
  st->dirty = dirty != 0;
  rc = 0;
out:
  git_repository_free(repo);
  git_libgit2_shutdown();
  return rc;
}

/**
 * Push filters: which pushes of a pipeline's repository run it. The push rule hands the run starter
 * every branch and tag push of the repository; the starter applies these filters and records a push
 * they drop as a SKIPPED run with the reason, so no push is dropped silently.
 */

import { globToRegExp } from '../glob';

/** Markers that skip a run when the commit message carries one (case-insensitive), as most CI systems read them. */
export const DEFAULT_SKIP_MARKERS = ['[skip ci]', '[ci skip]', '[no ci]', '[skip stepline]'] as const;

export interface PushFilters {
  /** Branch name patterns; `*` matches any run of characters, `/` included. */
  readonly branches: readonly string[];
  /** Whether tag pushes run the pipeline. */
  readonly tags: boolean;
  readonly skipMarkers: readonly string[];
  /** Path globs (`**`, `*`, `?`, `[...]`, `{a,b}`): a push runs when a changed file is included and not excluded. */
  readonly paths?: { readonly include: readonly string[]; readonly exclude: readonly string[] };
}

export interface Push {
  readonly referenceType: 'branch' | 'tag';
  /** The branch or tag name. */
  readonly reference: string;
  readonly message?: string;
}

/**
 * Why a push's changed files do not run the pipeline, or undefined when they do. Changed files that
 * cannot be known (the first commit of a repository) never skip a run.
 */
export function pathSkipReason(changedFiles: readonly string[] | undefined, filters: PushFilters): string | undefined {
  if (!filters.paths || changedFiles === undefined) return undefined;
  const include = filters.paths.include.map(globToRegExp);
  const exclude = filters.paths.exclude.map(globToRegExp);
  const relevant = changedFiles.filter(
    (file) => (include.length === 0 || include.some((p) => p.test(file))) && !exclude.some((p) => p.test(file)),
  );
  if (relevant.length > 0) return undefined;
  const rules = [
    filters.paths.include.length ? `include ${filters.paths.include.join(', ')}` : '',
    filters.paths.exclude.length ? `exclude ${filters.paths.exclude.join(', ')}` : '',
  ].filter(Boolean);
  return `none of the ${changedFiles.length} changed files matches the pipeline's paths (${rules.join('; ')})`;
}

/** Whether a branch or tag name matches a pattern (`*` any characters; everything else literally). */
export function matchesRefPattern(pattern: string, name: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(name);
}

/** Why a push does not run the pipeline, or undefined when it does. Needs the message only for skip markers. */
export function skipReason(push: Push, filters: PushFilters): string | undefined {
  if (push.referenceType === 'tag') {
    if (!filters.tags) return `tag ${push.reference}: tag pushes do not run this pipeline (filters.tags is off)`;
  } else if (!filters.branches.some((pattern) => matchesRefPattern(pattern, push.reference))) {
    return `branch ${push.reference} matches none of the pipeline's branch patterns (${filters.branches.join(', ')})`;
  }
  const message = push.message?.toLowerCase() ?? '';
  const marker = filters.skipMarkers.find((m) => message.includes(m.toLowerCase()));
  return marker ? `the commit message says ${marker}` : undefined;
}

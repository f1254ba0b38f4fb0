/**
 * Which pipelines follow a repository, read from the catalog, where each pipeline's entry names its
 * source (core/catalog.ts): the one answer both receivers of pushes use — the GitHub webhook receiver
 * (core/sources/github-webhook.ts) and the source-change publisher behind the one CodeCommit push rule —
 * so that a push becomes one SourceChanged event per following pipeline whatever its source, and no rule
 * names a repository or a pipeline.
 */
import type { CatalogListing, SourceEventPublisher } from '../ports';
import type { TriggerKind } from '../records';
import { sourceChangedFromPush, type CodeCommitPush } from './triggers';

/**
 * The pipelines whose source is `repository` of that kind, in name order. GitHub compares repository
 * names without regard to case, so does this for GitHub; a CodeCommit repository is matched by its exact
 * name, as CodeCommit's event and the ARN in a rule name it.
 */
export async function pipelinesFollowing(
  catalog: CatalogListing,
  kind: TriggerKind,
  repository: string,
): Promise<string[]> {
  const same =
    kind === 'github'
      ? (name: string) => name.toLowerCase() === repository.toLowerCase()
      : (name: string) => name === repository;
  return [...(await catalog.list())]
    .filter(([, entry]) => entry.source.kind === kind && same(entry.source.repository))
    .map(([pipeline]) => pipeline)
    .sort();
}

/**
 * A CodeCommit push, as the push rule hands it over, put on the platform's bus as one SourceChanged event
 * per pipeline following its repository. Answers those pipelines: none for a repository no pipeline
 * follows, which the caller says in its log (the trace such a push leaves; no run has a pipeline to
 * belong to).
 */
export async function publishCodeCommitPush(
  push: CodeCommitPush,
  deps: { readonly catalog: CatalogListing; readonly publisher: SourceEventPublisher },
): Promise<string[]> {
  const pipelines = await pipelinesFollowing(deps.catalog, 'codecommit', push.repository);
  if (pipelines.length > 0)
    await deps.publisher.publish(pipelines.map((pipeline) => sourceChangedFromPush(pipeline, push)));
  return pipelines;
}

import { GetParameterCommand, GetParametersByPathCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { InvalidCatalogEntryError } from '../../core/errors';
import { catalogParameterName } from '../../core/platform';
import type { CatalogListing, Clock, PipelineCatalog } from '../../core/ports';
import type { PipelineCatalogEntry } from '../../core/catalog';
import { catalogEntrySchema, parseInput } from '../../core/schemas';

/** How long a container trusts an entry it read: a redeployed pipeline's new stage plan is used within this. */
const CATALOG_CACHE_MS = 60_000;

/**
 * The pipeline catalog in SSM Parameter Store: each pipeline stack publishes its entry (state
 * machine ARN and stage plan) as one parameter, so the catalog grows with the pipelines and no
 * function's environment does. Entries are cached per container; unknown pipelines are not, so a
 * pipeline deployed a moment ago is found at once. The whole listing (for the receivers of pushes) is
 * cached as one: a hundred pipelines take ten GetParametersByPath pages.
 */
export class SsmPipelineCatalog implements PipelineCatalog, CatalogListing {
  private readonly cache = new Map<string, { readonly entry: PipelineCatalogEntry; readonly until: number }>();
  private listing?: { readonly entries: ReadonlyMap<string, PipelineCatalogEntry>; readonly until: number };

  constructor(
    private readonly ssm: SSMClient,
    private readonly path: string,
    private readonly now: Clock,
    private readonly cacheMs: number = CATALOG_CACHE_MS,
  ) {}

  async lookup(pipeline: string): Promise<PipelineCatalogEntry | undefined> {
    const now = this.now().getTime();
    const cached = this.cache.get(pipeline);
    if (cached && cached.until > now) return cached.entry;

    const name = catalogParameterName(pipeline, this.path);
    let value: string | undefined;
    try {
      value = (await this.ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch (error) {
      if (error instanceof ParameterNotFound) return undefined;
      throw error;
    }
    const entry = parseEntry(pipeline, name, value);
    this.cache.set(pipeline, { entry, until: now + this.cacheMs });
    return entry;
  }

  async list(): Promise<ReadonlyMap<string, PipelineCatalogEntry>> {
    const now = this.now().getTime();
    if (this.listing && this.listing.until > now) return this.listing.entries;
    const entries = new Map<string, PipelineCatalogEntry>();
    let NextToken: string | undefined;
    do {
      const page = await this.ssm.send(new GetParametersByPathCommand({ Path: this.path, MaxResults: 10, NextToken }));
      for (const parameter of page.Parameters ?? []) {
        const pipeline = parameter.Name!.slice(this.path.length + 1);
        entries.set(pipeline, parseEntry(pipeline, parameter.Name!, parameter.Value));
      }
      NextToken = page.NextToken;
    } while (NextToken);
    this.listing = { entries, until: now + this.cacheMs };
    return entries;
  }
}

function parseEntry(pipeline: string, location: string, value: string | undefined): PipelineCatalogEntry {
  try {
    return parseInput(catalogEntrySchema, JSON.parse(value ?? ''), 'catalog entry');
  } catch (error) {
    throw new InvalidCatalogEntryError(pipeline, location, { cause: error });
  }
}

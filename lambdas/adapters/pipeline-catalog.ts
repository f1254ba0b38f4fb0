import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { InvalidCatalogEntryError } from '../../core/errors';
import { catalogParameterName } from '../../core/platform';
import type { Clock, PipelineCatalog } from '../../core/ports';
import type { PipelineCatalogEntry } from '../../core/records';
import { catalogEntrySchema, parseInput } from '../../core/schemas';

/** How long a container trusts an entry it read: a redeployed pipeline's new stage plan is used within this. */
const CATALOG_CACHE_MS = 60_000;

/**
 * The pipeline catalog in SSM Parameter Store: each pipeline stack publishes its entry (state
 * machine ARN and stage plan) as one parameter, so the catalog grows with the pipelines and no
 * function's environment does. Entries are cached per container; unknown pipelines are not, so a
 * pipeline deployed a moment ago is found at once.
 */
export class SsmPipelineCatalog implements PipelineCatalog {
  private readonly cache = new Map<string, { readonly entry: PipelineCatalogEntry; readonly until: number }>();

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
}

function parseEntry(pipeline: string, location: string, value: string | undefined): PipelineCatalogEntry {
  try {
    return parseInput(catalogEntrySchema, JSON.parse(value ?? ''), 'catalog entry');
  } catch (error) {
    throw new InvalidCatalogEntryError(pipeline, location, { cause: error });
  }
}

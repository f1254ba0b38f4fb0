import { ensureTable, startStoreServer, type StoreServer } from '../../local/store-server';
import { RunStore } from '../../store/run-store';

/**
 * One dynalite server for the test file and a fresh table for each test, so tests stay independent
 * without restarting the server. Call inside a `describe`; read `.store` inside tests.
 */
export function useRunStore(): { readonly store: RunStore } {
  let server: StoreServer;
  let table = 0;
  const current: { store?: RunStore } = {};
  beforeAll(async () => {
    server = await startStoreServer({ tableName: 'runs-0' });
  });
  afterAll(() => server.close());
  beforeEach(async () => {
    const tableName = `runs-${++table}`;
    await ensureTable(server.client, tableName);
    current.store = new RunStore(server.client, tableName);
  });
  return {
    get store() {
      if (!current.store) throw new Error('useRunStore: the store exists inside tests only');
      return current.store;
    },
  };
}

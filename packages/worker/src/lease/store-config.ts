/**
 * Which lease store a system uses, as plain data: it crosses to every shard-host thread by
 * structured clone, and each thread builds its own client from it (open-lease-store.ts).
 * Connection strings may carry credentials: they are never put in a message (see `storeTarget`
 * and `redactor`).
 */

export type StoreConfig =
  /** The Java KCL's lease table in DynamoDB; the client config is HostConfig.dynamodb. */
  | { type: 'dynamodb'; tableName: string }
  | { type: 'postgres'; connectionString: string; schema: string; table: string }
  | { type: 'redis'; url: string; prefix: string }
  /** This process's memory, shared by its threads; `name` is the table name (one store per name). */
  | { type: 'memory'; name: string };

export type StoreType = StoreConfig['type'];

/** A URL without its credentials and query, for messages: `postgres://127.0.0.1:5432/app`. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(a connection string that is not a valid URL)';
  }
}

/** The store as messages name it, without credentials. */
export function storeTarget(config: StoreConfig): string {
  switch (config.type) {
    case 'dynamodb':
      return `DynamoDB table "${config.tableName}"`;
    case 'postgres':
      return `PostgreSQL table "${config.schema}"."${config.table}" at ${safeUrl(config.connectionString)}`;
    case 'redis':
      return `Redis prefix "${config.prefix}" at ${safeUrl(config.url)}`;
    case 'memory':
      return `in-memory store "${config.name}"`;
  }
}

/** The secrets a connection string holds: its password (as written and decoded) and its user info. */
function secretsOf(url: string): string[] {
  const secrets = new Set<string>();
  try {
    const u = new URL(url);
    for (const raw of [u.password, u.searchParams.get('password') ?? '']) {
      if (!raw) continue;
      secrets.add(raw);
      try {
        secrets.add(decodeURIComponent(raw));
      } catch {
        // not percent-encoded: the raw form is enough
      }
    }
    if (u.username && u.password) secrets.add(`${u.username}:${u.password}`);
  } catch {
    // not a URL: the whole string is the secret
  }
  secrets.add(url);
  return [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** Text with the user info of every URL in it (`scheme://user:password@`) and `password=` parameters masked. */
export function redactUrls(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@"']*@/gi, '$1***@').replace(/(password=)[^&\s"']*/gi, '$1***');
}

/**
 * A function that removes a store's credentials from any text (error messages, stacks): the
 * connection string itself, its password in every form, and user info of any URL in the text.
 */
export function redactor(config: StoreConfig): (text: string) => string {
  const secrets = config.type === 'postgres' ? secretsOf(config.connectionString) : config.type === 'redis' ? secretsOf(config.url) : [];
  return (text) => {
    let out = text;
    for (const secret of secrets) out = out.split(secret).join('***');
    return redactUrls(out);
  };
}

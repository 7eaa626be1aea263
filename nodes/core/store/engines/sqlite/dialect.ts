import type { Dialect } from '../../migrations';

export const sqliteDialect: Dialect = { serialId: 'INTEGER PRIMARY KEY', int64: 'INTEGER', keyOnly: ' WITHOUT ROWID', dropsConstraints: false };

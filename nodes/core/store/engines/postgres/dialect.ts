import type { Dialect } from '../../migrations';

export const postgresDialect: Dialect = { serialId: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', int64: 'BIGINT', keyOnly: '', dropsConstraints: true };

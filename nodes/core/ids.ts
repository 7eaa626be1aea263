/**
 * Row ids: UUIDv7 (RFC 9562), a millisecond timestamp then random bits. Ids made close in time
 * sort close together, so inserting them touches the same few index pages instead of random
 * ones across the whole table: measured 2.3x faster bulk inserts than UUIDv4 (bench/import-sqlite.js).
 */
import { randomBytes } from 'node:crypto';

export function newId(): string {
	const bytes = randomBytes(16);
	bytes.writeUIntBE(Date.now(), 0, 6);
	bytes[6] = (bytes[6] & 0x0f) | 0x70; // version 7
	bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
	const hex = bytes.toString('hex');
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

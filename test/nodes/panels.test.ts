/**
 * The panels the registry builds: Send Push version 1 as it was released (saved workflows rely on
 * it), and one credential slot, credential test and option collection per provider module.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INodeProperties } from 'n8n-workflow';
import { PROVIDERS, providerModule } from '../../nodes/core';
import { RegisterPushToken } from '../../nodes/RegisterPushToken/RegisterPushToken.node';
import { SendPush } from '../../nodes/SendPush/SendPush.node';

const description = new SendPush().description;
const fromVersion2 = (p: INodeProperties) => JSON.stringify(p.displayOptions?.show?.['@version'] ?? '').includes('gte');

describe('Send Push panels', () => {
	it('version 1 shows exactly what it showed when released (test/nodes/send-push-v1.json)', () => {
		const released = JSON.parse(readFileSync(join(__dirname, 'send-push-v1.json'), 'utf8')) as INodeProperties[];
		expect(JSON.parse(JSON.stringify(description.properties.filter((p) => !fromVersion2(p))))).toEqual(released);
	});

	it("version 2: each provider's options in its own collection, as its module's panel defines them", () => {
		for (const provider of PROVIDERS) {
			const { name, panel } = providerModule(provider);
			const collection = description.properties.find((p) => p.name === panel.parameter);
			expect(collection).toMatchObject({ displayName: name, type: 'collection', options: panel.fields });
			expect(fromVersion2(collection!)).toBe(true);
		}
	});

	it('a credential slot per provider, tested by a method the node has', () => {
		const methods = new SendPush().methods.credentialTest;
		const slots = description.credentials!.filter((c) => c.name !== 'pushTokenStoreApi');
		expect(slots.map((c) => c.name).sort()).toEqual(PROVIDERS.map((p) => providerModule(p).credential.name).sort());
		for (const slot of slots) expect(typeof methods[slot.testedBy as keyof typeof methods]).toBe('function');
	});

	it("Register Push Token's Provider options: every provider, and the platform's own", () => {
		const additional = new RegisterPushToken().description.properties.find((p) => p.name === 'additionalFields')!;
		const provider = (additional.options as INodeProperties[]).find((o) => o.name === 'provider')!;
		expect((provider.options as Array<{ value: string }>).map((o) => o.value).sort()).toEqual([...PROVIDERS, 'platform'].sort());
	});
});

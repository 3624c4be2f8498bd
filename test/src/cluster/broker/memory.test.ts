import { createMemoryBus, memoryBroker } from '../../../../src/cluster/broker/memory.js';
import { describeBrokerConformance } from '../../../support/broker-conformance.js';

const bus = createMemoryBus();
describeBrokerConformance('memory', { make: async () => memoryBroker(bus) });

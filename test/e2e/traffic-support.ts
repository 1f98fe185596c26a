/** The bounded writer and reader lives in src/redis/traffic.ts (drill failover runs it); specifications import it from here or there. */
export {startTraffic, type Traffic, type TrafficOptions, type TrafficReport} from '../../src/redis/traffic.js'

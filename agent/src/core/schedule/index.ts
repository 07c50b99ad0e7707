/**
 * Cron schedules with Kubernetes CronJob semantics (robfig/cron v3): parsing, validation,
 * time zones and next fire times. Pure: no I/O, no timers. See docs/adr/0003.
 */
export { ScheduleError, type ScheduleField } from './errors.js';
export { DEFAULT_TIME_ZONE, parseSchedule, type Schedule } from './schedule.js';
export { isValidTimeZone } from './zone.js';

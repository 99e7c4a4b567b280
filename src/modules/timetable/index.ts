/** What other modules may use from the timetable. */
export { TimetableRepository, presentSlot, MAX_SLOT_DURATION_MS, type SlotView } from './timetable.repository.js';
export { TimetableService } from './timetable.service.js';
export { registerTimetableRoutes } from './timetable.routes.js';
export { holidayOf, weekdayOf, type SchoolCalendar } from './timetable.calendar.js';

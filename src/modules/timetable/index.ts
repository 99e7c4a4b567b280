/** What other modules may use from the timetable (the full module comes with "The school day"). */
export { TimetableRepository, presentSlot, type SlotView } from './timetable.repository.js';

"""``partsbot demo`` and ``partsbot demo kurs``: scripted walks through the real console chat.

They sit outside the product packages (toolbox, course) because they drive the whole bot from above, like
an adapter does: :mod:`bot.demo.case` plays a case from problem to agreed plan, :mod:`bot.demo.course` a
whole course run on a simulated clock.
"""
